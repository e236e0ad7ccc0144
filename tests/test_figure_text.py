"""The legibility check of figure text: a wide figure is shrunk to the page's column, and its text with it."""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from ddd_utils.notebook import figure_text  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_a_figure_narrower_than_the_column_is_shown_at_its_own_size():
    fig = plt.figure(figsize=(5, 3), dpi=100)
    assert figure_text.shown_scale(fig) == 1.0


def test_text_height_on_the_page_follows_the_shrink_of_a_wide_figure():
    fig = plt.figure(figsize=(12, 4), dpi=110)
    fig.text(0.5, 0.5, "legend entry", fontsize=8)
    fig.text(0.5, 0.2, "title", fontsize=12)
    (label, px), = figure_text.small_texts(fig)
    assert label == "legend entry"
    assert px == pytest.approx(8 * 110 / 72 * figure_text.COLUMN_PX / (12 * 110))


def test_the_largest_legible_width_is_where_the_text_lands_exactly_at_the_minimum():
    width = figure_text.largest_legible_width(10)
    fig = plt.figure(figsize=(width, 4), dpi=110)
    fig.text(0.5, 0.5, "just legible", fontsize=10)
    assert figure_text.small_texts(fig, min_px=figure_text.MIN_TEXT_PX - 1e-9) == []
    assert figure_text.small_texts(fig, min_px=figure_text.MIN_TEXT_PX + 1e-6) != []


def test_the_check_warns_about_a_figure_with_small_text_and_not_about_a_legible_one():
    legible = plt.figure(figsize=(6, 4))
    legible.text(0.5, 0.5, "fine", fontsize=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure_text.warn_if_small(legible)
    wide = plt.figure(figsize=(15, 4), dpi=110)
    wide.text(0.5, 0.5, "tiny", fontsize=8)
    with pytest.warns(figure_text.IllegibleFigureText, match=r"'tiny'.*at most 10.3 in wide"):
        figure_text.warn_if_small(wide)


def test_invisible_and_empty_texts_are_not_counted():
    fig = plt.figure(figsize=(15, 4), dpi=110)
    fig.text(0.5, 0.5, "hidden", fontsize=6).set_visible(False)
    fig.text(0.5, 0.2, "   ", fontsize=6)
    assert figure_text.small_texts(fig) == []


def test_in_a_kernel_the_check_runs_for_shown_and_for_end_of_cell_figures(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    papermill = pytest.importorskip("papermill")
    cells = ["import matplotlib.pyplot as plt\nfrom ddd_utils.notebook import plots\nplots.use_book_style()",
             "fig = plt.figure(figsize=(15, 4))\nfig.text(0.5, 0.5, 'shown', fontsize=7)\nplt.show()",
             "fig = plt.figure(figsize=(15, 4))\nfig.text(0.5, 0.5, 'at the end', fontsize=7)",
             "fig = plt.figure(figsize=(6, 4))\nfig.text(0.5, 0.5, 'legible', fontsize=10)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "in.ipynb")
    papermill.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), kernel_name="python3",
                               progress_bar=False, execution_timeout=120)
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
    printed = ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream") for cell in executed]
    assert "IllegibleFigureText" in printed[1] and "'shown'" in printed[1]
    assert "IllegibleFigureText" in printed[2] and "'at the end'" in printed[2]
    assert "IllegibleFigureText" not in printed[3]
    assert all(any(o.output_type == "display_data" for o in cell.outputs) for cell in executed[1:])


def test_the_books_wide_figures_show_nine_point_text_legibly():
    assert figure_text.WIDE_FIGURE_IN <= figure_text.largest_legible_width(9)
