"""Chapters 4-6's explorers in the browser, over finished sweeps: every slider setting is a read of the records,
made by the kernel explorers' own state functions (`explorers.sweeps`), so the page holds all of them."""

from __future__ import annotations

from ddd_utils.analysis import sweep_curves
from ddd_utils.notebook.explorers import sweeps as kernel
from ddd_utils.notebook.web import vegalite as vl
from ddd_utils.notebook.web.explorer import Slider, WebExplorer

NOTE = ("Every setting of the sliders is read from the finished runs that the figures above show, as the widget "
        "above does in Jupyter or Colab.")
MARK = {"slider's width": ("C3", "solid")}


def _values(records: list[dict], name: str) -> tuple:
    """A slider's values: the sweep's distinct values of config field `name`."""
    return tuple(sweep_curves.config_values(records, name))


def _error_axis(web: WebExplorer, *tables: str) -> dict:
    return vl.axis("y", "error", vl.linear_domain(*web.extent(*tables), floor=-0.02, ceiling=1.02))


def sweep_web_explorer(records: list[dict]) -> WebExplorer:
    """Chapter 4's explorer: label noise and width over a finished MNIST-1D sweep."""
    noises, widths = _values(records, "noise"), _values(records, "width")
    web = WebExplorer((Slider("noise", "label noise", noises, noises[-1]),
                       Slider("width", "width", widths, widths[len(widths) // 2])), note=NOTE)
    state = kernel.sweep_state

    def finals(noise):
        curves = state(records, noise, widths[0])["curves"]
        return [{"series": "test error (mean over seeds)", "x": curves["widths"],
                 "y": curves["test_error"].mean(axis=0)},
                {"series": "train error (noisy labels)", "x": curves["widths"],
                 "y": curves["train_error"].mean(axis=0)}]

    def history(noise, width):
        found = state(records, noise, width)["history"]
        return [{"series": label, "x": found["epoch"], "y": found[key]} for key, label in kernel.SweepView.HISTORY]

    web.table("finals", ("noise",), finals)
    web.table("history", ("noise", "width"), history)
    web.table("marks", ("width",), lambda width: [{"series": "slider's width", "x": width}])
    web.text("finals_title", ("noise",), lambda noise: kernel.sweep_titles(state(records, noise, widths[0]))[0])
    web.text("history_title", ("width",), lambda width: kernel.sweep_titles(state(records, noises[0], width))[1])
    left = {"test error (mean over seeds)": ("C0", "solid"), "train error (noisy labels)": ("C1", "solid"), **MARK}
    right = {label: (f"C{i}", "solid") for i, (_, label) in enumerate(kernel.SweepView.HISTORY)}
    x_width = vl.axis("x", "hidden units (width)", vl.log_span(widths[0], widths[-1]), log=True)
    x_epoch = vl.axis("x", "epoch", vl.log_span(*web.extent("history", field="x", positive=True)), log=True)
    return web.chart(vl.side_by_side(
        vl.panel("finals_title", vl.lines("finals", x_width, _error_axis(web, "finals"), left, points=True),
                 vl.rules("marks", left)),
        vl.panel("history_title", vl.lines("history", x_epoch, _error_axis(web, "history"), right))))


def epoch_sweep_web_explorer(records: list[dict]) -> WebExplorer:
    """Chapter 5's explorer: width, label noise, training-set size and epoch over a finished sweep of one model
    (settings the sweep did not run show no curves and say so)."""
    widths, noises, sizes = (_values(records, name) for name in ("width", "noise", "n_train"))
    epochs = tuple(int(e) for e in records[0]["history"]["epoch"])
    web = WebExplorer((Slider("width", "width", widths, widths[len(widths) // 2]),
                       Slider("noise", "label noise", noises, noises[-1]),
                       Slider("n_train", "samples n", sizes, sizes[-1]),
                       Slider("epoch", "epoch", epochs, epochs[-1])), note=NOTE)

    def state(**setting):
        try:
            return kernel.epoch_sweep_state(records, **setting)
        except ValueError:  # a (noise, n_train) the sweep did not run
            return None

    def at_epoch(noise, n_train, epoch):
        found = state(width=widths[0], noise=noise, n_train=n_train, epoch=epoch)
        return [] if found is None else [
            {"series": "test error", "x": found["widths"], "y": found["test_error"]},
            {"series": "train error (noisy labels)", "x": found["widths"], "y": found["train_error"]}]

    def history(width, noise, n_train):
        found = state(width=width, noise=noise, n_train=n_train, epoch=epochs[-1])
        return [] if found is None else [{"series": "test error", "x": found["epochs"], "y": found["history"]}]

    def title(noise, n_train, epoch):
        found = state(width=widths[0], noise=noise, n_train=n_train, epoch=epoch)
        return (kernel.epoch_sweep_titles(found)[0] if found is not None
                else f"no runs at label noise {noise:g} with n = {n_train}")

    web.table("at_epoch", ("noise", "n_train", "epoch"), at_epoch)
    web.table("history", ("width", "noise", "n_train"), history)
    web.table("width_mark", ("width",), lambda width: [{"series": "slider's width", "x": width}])
    web.table("epoch_mark", ("epoch",), lambda epoch: [{"series": "slider's epoch", "x": epoch}])
    web.text("epoch_title", ("noise", "n_train", "epoch"), title)
    ran = records[0]["config"]  # a setting the sweep ran: the history's title names the width only
    web.text("history_title", ("width",), lambda width: kernel.epoch_sweep_titles(
        state(width=width, noise=ran["noise"], n_train=ran["n_train"], epoch=epochs[-1]))[1])
    left = {"test error": ("C0", "solid"), "train error (noisy labels)": ("C1", "solid"), **MARK}
    right = {"test error": ("C0", "solid"), "slider's epoch": ("C3", "solid")}
    x_width = vl.axis("x", "width", vl.log_span(widths[0], widths[-1]), log=True)
    x_epoch = vl.axis("x", "epoch", vl.log_span(*web.extent("history", field="x", positive=True)), log=True)
    return web.chart(vl.side_by_side(
        vl.panel("epoch_title", vl.lines("at_epoch", x_width, _error_axis(web, "at_epoch"), left, points=True),
                 vl.rules("width_mark", left)),
        vl.panel("history_title", vl.lines("history", x_epoch, _error_axis(web, "history"), right, points=True),
                 vl.rules("epoch_mark", right))))


def translation_sweep_web_explorer(records: list[dict]) -> WebExplorer:
    """Chapter 6's explorer: d_model and training-set size over a finished Transformer sweep."""
    d_models, sizes = _values(records, "d_model"), _values(records, "n_train")
    if len(sizes) > kernel.TranslationSweepView.MAX_SIZES:
        raise ValueError(f"the explorer draws at most {kernel.TranslationSweepView.MAX_SIZES} training-set sizes; "
                         f"the records hold {len(sizes)}: select some first")
    web = WebExplorer((Slider("d_model", "d_model", d_models, d_models[len(d_models) // 2]),
                       Slider("n_train", "samples n", sizes, sizes[-1])), note=NOTE)

    def state(d_model, n_train):
        return kernel.translation_sweep_state(records, d_model, n_train)

    def finals():
        found = state(d_models[0], sizes[0])
        return [{"series": f"{kind}, n = {size}", "x": found["finals"][size]["widths"],
                 "y": found["finals"][size][f"{name}_loss"].mean(axis=0)}
                for size in sizes for kind, name in (("test", "test"), ("train", "train"))]

    def history(d_model, n_train):
        found = state(d_model, n_train)
        return [{"series": "test loss", "x": found["steps"], "y": found["test_history"]},
                {"series": "training loss (noisy targets)", "x": found["steps"], "y": found["train_history"]}]

    web.table("finals", (), finals)
    web.table("history", ("d_model", "n_train"), history)
    web.table("marks", ("d_model",), lambda d_model: [{"series": "slider's d_model", "x": d_model}])
    web.text("finals_title", ("d_model",), lambda d_model: kernel.translation_sweep_titles(state(d_model, sizes[0]))[0])
    web.text("history_title", ("d_model", "n_train"), lambda d_model, n_train: kernel.translation_sweep_titles(
        state(d_model, n_train))[1])
    left = {f"{kind}, n = {size}": (f"C{i}", "solid" if kind == "test" else "dotted")
            for i, size in enumerate(sizes) for kind in ("test", "train")}
    left |= {"slider's d_model": ("C3", "solid")}
    right = {"test loss": ("C0", "solid"), "training loss (noisy targets)": ("C1", "solid")}
    loss = "cross-entropy per token"
    x_d = vl.axis("x", "embedding dimension d_model", vl.log_span(d_models[0], d_models[-1]), log=True)
    x_step = vl.axis("x", "training step", vl.log_span(*web.extent("history", field="x", positive=True)), log=True)
    return web.chart(vl.side_by_side(
        vl.panel("finals_title", vl.lines("finals", x_d, vl.axis("y", loss, vl.linear_domain(
            *web.extent("finals"))), left, points=True), vl.rules("marks", left)),
        vl.panel("history_title", vl.lines("history", x_step, vl.axis("y", loss, vl.linear_domain(
            *web.extent("history"))), right, points=True))))

