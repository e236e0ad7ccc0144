"""The chapters' page times: the README's table, the instructor's page and `python -m ddd_utils list` all print the
times kept in `ddd_utils.notebook.chapter_times`, so they cannot disagree."""

import re
from pathlib import Path

import pytest

from ddd_utils.__main__ import main
from ddd_utils.notebook.chapter_times import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]


def table_rows(page: Path) -> dict[int, list[str]]:
    """Chapter number -> the cells of its row in the page's times table (rows starting '| N.' or '| [N.')."""
    rows = {}
    for line in page.read_text().splitlines():
        match = re.match(r"\| \[?(\d)\. ", line)
        if match:
            rows[int(match.group(1))] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


@pytest.mark.parametrize("page", ["README.md", "book/for_instructors.md"])
def test_each_page_prints_every_chapters_times_from_the_one_source(page):
    rows = table_rows(ROOT / page)
    assert sorted(rows) == [chapter.number for chapter in CHAPTERS]
    for chapter in CHAPTERS:
        assert rows[chapter.number][1:3] == [chapter.smoke, chapter.cpu_cell], (page, chapter.number)


def test_the_command_line_lists_every_chapters_times(capsys):
    assert main(["list"]) == 0
    printed = capsys.readouterr().out
    for chapter in CHAPTERS:
        assert f"{chapter.number}. {chapter.title}: smoke {chapter.smoke}, cpu {chapter.cpu_cell}" in printed


def test_the_chapters_are_numbered_one_to_eight_and_each_says_how_it_was_measured():
    assert [chapter.number for chapter in CHAPTERS] == list(range(1, 9))
    assert all(chapter.how_measured for chapter in CHAPTERS)


def test_the_readme_states_the_build_time_the_table_adds_up_to():
    from ddd_utils.notebook.chapter_times import cpu_build_minutes

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"preset takes about {cpu_build_minutes()} minutes, the sum of the page times" in readme


def test_a_table_time_reads_in_minutes_and_a_bad_unit_is_refused():
    from ddd_utils.notebook.chapter_times import minutes

    assert minutes("~40 s") == pytest.approx(40 / 60) and minutes("~4.5 min") == 4.5
    with pytest.raises(ValueError, match="time must end in 's' or 'min'"):
        minutes("~2 h")
