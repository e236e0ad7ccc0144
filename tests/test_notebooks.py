"""Every chapter notebook: stored clean, parameterised, installable on Colab, runnable on the smoke preset, and
ending with 2-4 exercises whose hidden solutions compute their answers."""

from __future__ import annotations

import json
import re

import papermill
import pytest
from conftest import CHAPTERS, CODE_WIDTH, ROOT


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_the_code_box(path):
    too_long = [line for cell in code_cells(path) for line in source(cell).splitlines() if len(line) > CODE_WIDTH]
    assert not too_long, f"{path.name}: code lines over {CODE_WIDTH} characters are cut on the page: {too_long}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_figure_widths_do_not_depend_on_the_run(path):
    # The legibility check (figure_text) fails only the smoke build; a width that grows with a preset's grid (one
    # panel per noise level, say) passes there and shrinks the text of the cpu and full pages below legible.
    widths = [match.group(1).strip() for cell in code_cells(path)
              for match in re.finditer(r"figsize=\(([^,]*),", source(cell))]
    computed = [width for width in widths if not re.fullmatch(r"\d+(\.\d+)?", width)]
    assert not computed, f"{path.name}: figure widths computed from the run (use a fixed width): {computed}"


def test_the_toc_lists_at_least_one_chapter():
    assert CHAPTERS, "_toc.yml lists no chapter notebook"


@pytest.mark.parametrize("path", sorted((ROOT / "book").rglob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    for cell in code_cells(path):
        assert not cell.get("outputs"), f"{path.name} stores outputs; strip them before committing"
        assert cell.get("execution_count") is None, f"{path.name} stores execution counts"


@pytest.mark.parametrize("path", sorted((ROOT / "book").rglob("*.ipynb")), ids=lambda p: p.name)
def test_every_cell_has_a_unique_id(path):
    # nbformat 4.5 cells carry ids: without them nbformat warns on every build and will refuse them in future.
    ids = [cell.get("id") for cell in json.loads(path.read_text())["cells"]]
    assert None not in ids and len(set(ids)) == len(ids), f"{path.name}: cells without an id or sharing one"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_first_code_cell_is_the_parameters_cell(path):
    first = code_cells(path)[0]
    assert "parameters" in first.get("metadata", {}).get("tags", [])
    lines = [line.split("#")[0].strip() for line in source(first).splitlines()]
    assert 'PRESET = "auto"' in lines and "SEED = 0" in lines


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_install_cell_installs_from_the_configured_repository(path, book_config):
    install = source(code_cells(path)[1])
    repository = book_config["repository"]
    assert f"git+{repository['url']}@{repository['branch']}" in install
    assert 'find_spec("ddd_utils") is None' in install, "install only when the package is missing"
    assert '("numpy", "torch")' in install, "pin the installed numpy and torch so pip never replaces them"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_on_smoke_and_draws_figures(path, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel must use its inline backend to emit figures
    monkeypatch.setenv("DDD_RUNS_DIR", str(tmp_path / "runs"))  # training runs go to a fresh folder, not book/
    out = tmp_path / path.name
    # A cell that gets no reply within the timeout fails the test instead of stalling CI (a smoke cell takes seconds).
    papermill.execute_notebook(str(path), str(out), parameters={"PRESET": "smoke"}, cwd=str(path.parent),
                               kernel_name="python3", progress_bar=False, execution_timeout=300)
    outputs = [output for cell in code_cells(out) for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} drew no figure on smoke"
    printed = "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")
    assert "IllegibleFigureText" not in printed, f"{path.name}: a figure's text is too small on the page"
    solutions = [cell for cell in code_cells(out) if "solution" in cell["metadata"].get("tags", [])]
    assert solutions, f"{path.name} has no exercise whose solution computes its answer"
    assert all(cell.get("outputs") for cell in solutions), "every solution's code prints its answer on smoke"


def test_unknown_preset_stops_a_chapter_with_a_clear_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="PRESET must be one of"):
        papermill.execute_notebook(str(CHAPTERS[0]), str(tmp_path / "out.ipynb"), parameters={"PRESET": "huge"},
                                   cwd=str(CHAPTERS[0].parent), kernel_name="python3", progress_bar=False)


def markdown_sources(path) -> list[str]:
    return [source(cell) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_has_two_to_four_exercises_each_with_one_hidden_solution(path):
    text = "\n".join(markdown_sources(path))
    labels = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text)
    assert 2 <= len(labels) <= 4, f"{path.name} has {len(labels)} exercises"
    solved = re.findall(r"```\{solution-start\} (\S+)\n:class: dropdown\n```", text)
    assert sorted(solved) == sorted(labels), "each exercise needs one solution, hidden (class dropdown)"
    assert text.count("```{solution-start}") == text.count("```{solution-end}")
    for cell in json.loads(path.read_text())["cells"]:  # solutions start collapsed in Jupyter too
        if "solution" in cell["metadata"].get("tags", []):
            assert cell["metadata"].get("jupyter", {}).get("source_hidden"), f"{path.name}: a solution is shown"


def test_exercise_labels_are_unique_across_the_book():
    labels = [label for path in CHAPTERS
              for label in re.findall(r":label: (\S+)", "\n".join(markdown_sources(path)))]
    assert len(labels) == len(set(labels))
