"""The whole book builds offline on the smoke preset with warnings as errors, its Colab links resolve, its
exercises' solutions are hidden until opened, and its maths is typeset by a MathJax served with the pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import CHAPTERS, CODE_WIDTH, ROOT, toc_files


def page(html_root: Path, chapter: Path) -> str:
    return (html_root / chapter.relative_to(ROOT).with_suffix(".html")).read_text()


def test_book_has_an_index_and_every_chapter_page(built_html):
    assert (built_html / "index.html").exists()
    for chapter in CHAPTERS:
        assert (built_html / chapter.relative_to(ROOT).with_suffix(".html")).exists()


@pytest.mark.parametrize("chapter", toc_files(), ids=lambda p: p.name)
def test_no_code_or_printed_line_is_cut_at_the_code_box(built_html, chapter):
    blocks = re.findall(r"<pre[^>]*>(.*?)</pre>", page(built_html, chapter), re.S)
    lines = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]
    too_long = [line for block in lines for line in block.splitlines() if len(line) > CODE_WIDTH]
    assert not too_long, f"{chapter.name}: lines over {CODE_WIDTH} characters, cut on the page: {too_long}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_page_shows_executed_figures(built_html, chapter):
    assert re.search(r'<img[^>]+src="[^"]+\.png"', page(built_html, chapter)), f"{chapter.name} page has no figure"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_colab_link_opens_an_existing_notebook(built_html, chapter, book_config):
    links = re.findall(r'https://colab\.research\.google\.com/github/([^"\s]+)', page(built_html, chapter))
    assert links, f"{chapter.name} page has no Colab link"
    repository = book_config["repository"]
    owner_repo = repository["url"].removeprefix("https://github.com/")
    for link in links:
        prefix = f"{owner_repo}/blob/{repository['branch']}/"
        assert link.startswith(prefix), f"Colab link {link} is not on {prefix}"
        target = ROOT / link.removeprefix(prefix)
        assert target.suffix == ".ipynb" and target.exists(), f"Colab link points at {target}, which does not exist"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_exercises_show_and_their_solutions_are_hidden_until_opened(built_html, chapter):
    html = page(built_html, chapter)
    exercises = re.findall(r'<div class="exercise admonition" id="([^"]+)"', html)
    solutions = re.findall(r'<div class="solution dropdown admonition" id="[^"]+">\s*<p class="admonition-title">'
                           r'Solution to<a class="reference internal" href="#([^"]+)"', html)
    assert 2 <= len(exercises) <= 4 and sorted(solutions) == sorted(exercises)
    # sphinx-togglebutton collapses exactly these on load; the solution's code and output sit inside the box
    assert "var togglebuttonSelector = '.toggle, .admonition.dropdown';" in html
    assert re.search(r'<div class="solution dropdown admonition"(?:(?!<div class="(?:exercise|solution) ).)*'
                     r'class="cell tag_solution', html, re.S)


@pytest.mark.parametrize("number, chapter", list(enumerate(CHAPTERS, start=1)), ids=lambda p: getattr(p, "name", p))
def test_chapters_and_their_exercises_are_numbered_per_chapter(built_html, number, chapter):
    html = page(built_html, chapter)
    assert re.search(rf'<h1><span class="section-number">{number}\. </span>', html), "the title has its number"
    numbers = re.findall(r'<span class="caption-number">Exercise (\d+)\.(\d+) ', html)
    assert numbers == [(str(number), str(k)) for k in range(1, len(numbers) + 1)] and numbers


def test_maths_is_rendered_by_a_mathjax_copy_served_with_the_pages(built_html):
    chapter = built_html / CHAPTERS[1].relative_to(ROOT).with_suffix(".html")
    # Sphinx adds "?v=<checksum>" to a static file's link when the file is already there (a rebuild)
    links = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', chapter.read_text(), re.I)
    scripts = [link.split("?")[0] for link in links]
    assert len(scripts) == 1 and scripts[0].endswith("_static/mathjax/tex-chtml.js"), scripts  # no CDN
    assert (chapter.parent / scripts[0]).resolve().stat().st_size > 100_000
    assert (built_html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
