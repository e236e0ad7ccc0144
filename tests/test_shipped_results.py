"""The runs shipped in `book/results/` are real runs of their presets, with provenance, and every comparison the
chapters' text makes about them holds: a sentence about a shipped run cannot drift from it."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from ddd_utils.analysis import sweep_curves
from ddd_utils.analysis.curves import late_bump

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


def _load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text())


@pytest.fixture(scope="module")
def cnn() -> dict:
    return _load("mnist1d_cnn-paper.json")


@pytest.fixture(scope="module")
def search() -> dict:
    return _load("epochwise_search.json")


def _curves(shipped: dict, n_train: int) -> dict:
    return sweep_curves.final_curves(sweep_curves.select(shipped["runs"], n_train=n_train),
                                     shipped["config"]["noises"][0])


def test_every_shipped_file_is_small_enough_to_ship():
    for path in RESULTS.glob("*.json"):
        assert path.stat().st_size < 5 * 2**20, path.name


def test_the_shipped_cnn_run_is_a_real_run_of_the_paper_preset_with_its_provenance(cnn):
    from ddd_utils.experiments import mnist1d_cnn

    preset = mnist1d_cnn.PRESETS["paper"]
    assert cnn["preset"] == "paper" and "run mnist1d_cnn --preset paper" in cnn["command"]
    assert cnn["config"] == json.loads(json.dumps(asdict(preset)))  # tuples as JSON lists
    assert len(cnn["runs"]) == len(mnist1d_cnn.run_configs(preset))
    for run in cnn["runs"]:
        assert {"device", "commit", "date", "torch"} <= set(run["provenance"])
        assert run["history"]["epoch"][-1] == preset.epochs


def test_chapter_5_modelwise_the_published_shape_within_four_points_of_each_published_number(cnn):
    from ddd_utils.experiments.mnist1d_cnn import GREYDANUS_PUBLISHED

    big = _curves(cnn, 4000)
    mean = dict(zip(big["widths"].tolist(), big["test_error"].mean(axis=0).tolist(), strict=True))
    for width, published in GREYDANUS_PUBLISHED.values():
        assert abs(mean[width] - published) <= 0.04, (width, mean[width], published)
    peak = sweep_curves.modelwise_peak(big)
    # "its minimum near 10 channels, climbs by more than ten points to a peak in the low twenties"
    assert 8 <= peak.best_below_width <= 12 and 18 <= peak.peak_width <= 26
    assert peak.above_best_below > 0.10 and peak.above_widest >= 0.04  # the goals: 10 and 4 points
    # "the widest networks ... stay well above the minimum": the second descent does not return to the first
    assert peak.widest_error - peak.best_below_error > 0.05
    # "The peak sits between the two lines, where the training error goes from 10% to zero"
    low = sweep_curves.interpolation_width(big["widths"], big["train_error"], eps=0.1)
    high = sweep_curves.interpolation_width(big["widths"], big["train_error"])
    assert low <= peak.peak_width <= high
    # "from a few at 10 channels to all of them from the dashed line on"
    fitted = 1 - big["corrupted_error"].mean(axis=0)
    assert fitted[big["widths"].tolist().index(10)] < 0.25
    assert np.all(fitted[big["widths"] >= high] == 1.0)


def test_chapter_5_epochwise_the_first_half_only_and_early_stopping_flattens_the_peak(cnn):
    table = sweep_curves.epoch_table(sweep_curves.select(cnn["runs"], n_train=4000))
    widths, errors = table["widths"], table["test_error"]
    late = [late_bump(row).height for row in errors]
    assert max(late) < 0.02  # "the largest late bump ... is under two points"
    past = widths >= 14  # every width that reaches the threshold first improves, then rises by several points
    assert np.all(errors[past, -1] - errors[past].min(axis=1) > 0.04)
    best_epochs = table["epochs"][errors.argmin(axis=1)]  # "broadly, the wider the network, the earlier"
    assert np.median(best_epochs[widths >= 50]) * 1.5 < np.median(best_epochs[(widths >= 14) & (widths <= 24)])
    best = errors.min(axis=1)[widths >= 10]  # "nearly equally good at their best epochs"
    assert best.max() - best.min() < 0.05
    peak = sweep_curves.modelwise_peak(_curves(cnn, 4000))
    assert best.max() - best.min() < peak.above_best_below / 2  # "almost no model-wise peak"


def test_chapter_5_search_no_setting_shows_a_second_descent(search):
    settings = search["settings"]
    assert len(settings) >= 4  # the issue asks for at least four recipes
    recipes = {(s["config"]["optimizer"], s["config"]["lr"], s["config"]["noises"][0], s["config"]["epochs"])
               for s in settings.values()}
    assert len(recipes) == len(settings)
    assert {s["config"]["optimizer"] for s in settings.values()} == {"sgd", "adam"}
    assert max(s["config"]["epochs"] for s in settings.values()) == 3000
    assert {s["config"]["noises"][0] for s in settings.values()} == {0.15, 0.2, 0.3}
    for name, setting in settings.items():
        assert len(setting["runs"]) == 3, name
        for run in setting["runs"]:
            assert late_bump(run["history"]["test_error"]).height < 0.02, (name, run["config"]["width"])
            assert run["history"]["epoch"][-1] == setting["config"]["epochs"]
            assert {"device", "commit", "date"} <= set(run["provenance"])


def test_chapter_5_samplewise_more_data_hurts_nowhere_and_the_reasons_the_text_gives(cnn):
    big_n, small_n = cnn["config"]["n_trains"]
    big, small = _curves(cnn, big_n), _curves(cnn, small_n)
    gap = sweep_curves.sample_wise_gap(small, big)
    widths = gap["widths"]
    assert not gap["hurts"].any()  # "more data does not hurt at any width"
    assert np.all(gap["gap"][widths >= 4] < -0.15)  # "fifteen to thirty points at every width but the narrowest"
    assert abs(gap["gap"][widths == 2][0]) < 0.02  # the narrowest "learn little from either set"
    thresholds = [sweep_curves.interpolation_width(widths, c["train_error"]) for c in (small, big)]
    assert 1.5 <= thresholds[1] / thresholds[0] <= 2.5  # "about twice the channels for four times the data"
    own = sweep_curves.modelwise_peak(small)
    low = sweep_curves.interpolation_width(widths, small["train_error"], eps=0.1)
    assert low <= own.peak_width <= thresholds[0] and 0.02 <= own.above_best_below < 0.1  # "a few points high"
    assert own.widest_error < own.best_below_error  # "to a little below its own minimum by 100 channels"
    assert sweep_curves.modelwise_peak(big).peak_error < small["test_error"].mean(axis=0).min()  # "peak included"


def test_chapter_5_search_widths_sit_one_below_and_two_past_the_threshold_of_its_size(cnn, search):
    small_n = cnn["config"]["n_trains"][1]
    small = _curves(cnn, small_n)
    threshold = sweep_curves.interpolation_width(small["widths"], small["train_error"])
    for setting in search["settings"].values():
        assert setting["config"]["n_trains"] == [small_n]
        widths = sorted(setting["config"]["widths"])
        assert widths[0] < threshold < widths[1] < widths[2]


@pytest.fixture(scope="module")
def samplewise() -> dict:
    return _load("samplewise_search.json")


def test_chapter_5_samplewise_search_is_its_script_run_with_provenance(samplewise):
    import sys

    sys.path.insert(0, str(RESULTS.parents[1] / "scripts"))
    import samplewise_search

    assert samplewise["command"].startswith("python scripts/samplewise_search.py")
    assert set(samplewise["settings"]) == set(samplewise_search.SETTINGS)
    for name, setting in samplewise["settings"].items():
        config = json.loads(json.dumps(asdict(samplewise_search.config_of(name))))  # tuples as JSON lists
        assert setting["config"] == config, name
        for run in setting["runs"]:
            assert {"device", "commit", "date"} <= set(run["provenance"])
            assert run["history"]["epoch"][-1] == config["epochs"]


def test_chapter_5_samplewise_search_more_noise_a_taller_peak_and_still_more_data_helps_everywhere(cnn, samplewise):
    published = sweep_curves.modelwise_peak(_curves(cnn, 4000))
    for name, setting in samplewise["settings"].items():
        if "resnet" in name:
            continue  # the ResNet's setting: the next test
        noise, (large_n, small_n) = max(setting["config"]["noises"]), setting["config"]["n_trains"]
        large, small = (sweep_curves.final_curves(sweep_curves.select(setting["runs"], n_train=n), noise)
                        for n in (large_n, small_n))
        assert noise > cnn["config"]["noises"][0] and large_n / small_n == 2
        # "taller than at 15% (higher above its best smaller width)"
        assert sweep_curves.modelwise_peak(large).above_best_below > published.above_best_below
        gap = sweep_curves.sample_wise_gap(small, large)
        assert np.all(gap["gap"] + 2 * gap["se"] < 0)  # above "at every width ... by more than twice the SE"
        widths = small["widths"]
        thresholds = [sweep_curves.interpolation_width(widths, c["train_error"]) for c in (small, large)]
        assert thresholds[0] < thresholds[1]  # "reaches its threshold at a smaller width"
        past = small["test_error"].mean(axis=0)[widths >= thresholds[0]]
        assert past.max() - past.min() < 0.03  # "then stays nearly flat, with no second descent inside this range"


def test_chapter_5_samplewise_the_resnet_on_16000_sequences_is_worse_than_on_8000_past_its_peak(samplewise):
    setting = samplewise["settings"]["resnet18-16k-n-16000-vs-8000"]
    large, small = (sweep_curves.final_curves(sweep_curves.select(setting["runs"], n_train=n), 0.15)
                    for n in (16000, 8000))
    gap = sweep_curves.sample_wise_gap(small, large)
    assert list(gap["widths"][gap["hurts"]]) == [10, 12]  # "shaded at k = 10 and 12", beyond 2 SE
    at_10 = list(gap["widths"]).index(10)
    assert gap["gap"][at_10] == gap["gap"].max() > 0.015  # "most at k = 10", short of the 2 points the issue asks
    assert np.all(large["test_error"][:, at_10] > small["test_error"][:, at_10].max())  # every seed
    assert np.all(gap["gap"][gap["widths"] <= 8] < 0)  # "up to k = 8 more data helps"
    thresholds = [sweep_curves.interpolation_width(c["widths"], c["train_error"], eps=0.01) for c in (small, large)]
    assert thresholds == [8, 12]  # "train error under 1% from k = 8 with 8,000 and from k = 12 with 16,000"
    peaks = [sweep_curves.modelwise_peak(c).peak_width for c in (small, large)]
    assert peaks == [6, 8]  # "its own peak (k = 6 for 8,000 sequences, k = 8 for 16,000)"
    for curves, peak in zip((small, large), peaks, strict=True):  # "between ... 10% and ... 1%"
        assert (sweep_curves.interpolation_width(curves["widths"], curves["train_error"], eps=0.1) <= peak
                <= sweep_curves.interpolation_width(curves["widths"], curves["train_error"], eps=0.01))


def test_chapter_5_samplewise_with_twice_the_noise_more_data_hurts_from_one_threshold_to_the_other(samplewise):
    setting = samplewise["settings"]["resnet18-16k-noise-0.3-n-16000-vs-8000"]
    large, small = (sweep_curves.final_curves(sweep_curves.select(setting["runs"], n_train=n), 0.3)
                    for n in (16000, 8000))
    gap, widths = sweep_curves.sample_wise_gap(small, large), small["widths"]
    fitted = [sweep_curves.interpolation_width(widths, c["train_error"], eps=0.01) for c in (small, large)]
    assert fitted == [10, 14]  # "below 1% from k = 10 ... only from k = 14"
    assert list(widths[gap["hurts"]]) == [10, 12, 14] == [w for w in widths if fitted[0] <= w <= fitted[1]]
    assert gap["gap"][list(widths).index(12)] == gap["gap"].max() > 0.03  # "most at k = 12", "several points"
    for i in np.flatnonzero(gap["hurts"]):  # "every seed on 16,000 ... worse than every seed on 8,000"
        assert large["test_error"][:, i].min() > small["test_error"][:, i].max()
    assert np.all(gap["gap"][widths <= 8] < 0) and gap["gap"][widths == 16][0] < 0  # "helps", "ahead again"
    assert sweep_curves.modelwise_peak(large).peak_width == 10  # "the larger set peaks at k = 10"
    assert (sweep_curves.interpolation_width(widths, large["train_error"], eps=0.1) <= 10 <= fitted[1])
    assert np.all(np.diff(small["test_error"].mean(axis=0)) < 0)  # "its curve only falls across this range"
    lower = samplewise["settings"]["resnet18-16k-n-16000-vs-8000"]
    lower_large, lower_small = (sweep_curves.final_curves(sweep_curves.select(lower["runs"], n_train=n), 0.15)
                                for n in (16000, 8000))
    lower_gap = sweep_curves.sample_wise_gap(lower_small, lower_large)
    assert lower_gap["hurts"].sum() < gap["hurts"].sum() and lower_gap["gap"].max() < gap["gap"].max()  # "wider
    # and deeper"
    assert large["test_error"].mean(axis=0).max() > lower_large["test_error"].mean(axis=0).max()  # "peak is taller"


@pytest.fixture(scope="module")
def reuse() -> dict:
    return _load("weight_reuse.json")


def test_chapter_4_weight_reuse_is_its_script_run_on_the_paper_preset(reuse):
    from ddd_utils.experiments import mnist1d_sweep

    paper = mnist1d_sweep.PRESETS["paper"]
    assert reuse["command"].startswith("python scripts/weight_reuse.py") and {"device", "commit", "date"} <= set(reuse)
    assert reuse["config"] == json.loads(json.dumps(asdict(paper))) and reuse["noise"] == max(paper.noises)
    squared = mnist1d_sweep.belkin_threshold_width(mnist1d_sweep.MNIST1DSweepConfig(**{**asdict(paper),
                                                                                        "loss": "squared"}))
    assert reuse["protocols"]["belkin"]["changes"] == {"loss": "squared", "reuse_up_to": squared}
    assert reuse["protocols"]["scratch_squared"]["changes"] == {"loss": "squared"}
    for protocol in reuse["protocols"].values():
        assert sorted((r["config"]["width"], r["config"]["seed"]) for r in protocol["runs"]) == sorted(
            (w, s) for w in paper.widths for s in paper.seeds)
        assert all(r["history"]["epoch"][-1] == paper.epochs for r in protocol["runs"])


def test_chapter_4_weight_reuse_removes_the_second_descent_and_belkin_moves_the_peak(reuse):
    scratch_runs = _load("mnist1d_sweep-paper.json")["runs"]
    noise = reuse["noise"]
    scratch, reused, belkin = (sweep_curves.final_curves(runs, noise) for runs in (
        scratch_runs, reuse["protocols"]["reuse"]["runs"], reuse["protocols"]["belkin"]["runs"]))
    widths = scratch["widths"]
    mean = {name: curves["test_error"].mean(axis=0) for name, curves in
            (("scratch", scratch), ("reuse", reused), ("belkin", belkin))}
    peak = sweep_curves.modelwise_peak(scratch)
    up_to_peak = widths <= peak.peak_width
    assert np.all(np.abs(mean["reuse"] - mean["scratch"])[up_to_peak] < 0.03)  # "within three points"
    threshold = sweep_curves.interpolation_width(widths, scratch["train_error"])
    past = widths >= threshold
    assert mean["scratch"][-1] < mean["scratch"][past].max() - 0.05  # from scratch "descends again"
    reuse_peak = sweep_curves.modelwise_peak(reused).peak_error
    assert mean["reuse"][past].min() > reuse_peak - 0.02  # reuse "within two points of its peak" to h = 300
    belkin_at = reuse["protocols"]["belkin"]["changes"]["reuse_up_to"]
    belkin_peak = sweep_curves.modelwise_peak(belkin)
    assert belkin_peak.best_below_width > peak.best_below_width  # "its minimum sits at a larger width"
    assert belkin_peak.peak_width == belkin_at  # "and its peak at their threshold"
    assert belkin_at > threshold  # "far past the width where the cross-entropy networks fit their labels"
    assert np.all(mean["belkin"][widths > belkin_at] < mean["belkin"][widths == belkin_at] - 0.02)  # "come down"
    control = sweep_curves.modelwise_peak(sweep_curves.final_curves(reuse["protocols"]["scratch_squared"]["runs"],
                                                                    noise))
    assert control.peak_width == belkin_at  # the squared loss alone "puts the peak at Belkin et al.'s threshold"
    assert control.above_best_below > 0.05  # "training from scratch has one of its own with either loss"
    assert belkin_peak.peak_error > control.peak_error + 0.03  # reuse makes it "several points higher"


def test_chapter_5_resnet_sweep_is_its_script_run_and_shows_no_peak_between_whole_widths():
    import sys

    from ddd_utils.models import build_model, count_parameters

    sys.path.insert(0, str(RESULTS.parents[1] / "scripts"))
    import resnet_sweep

    shipped = _load("resnet_sweep.json")
    assert shipped["command"].startswith("python scripts/resnet_sweep.py")
    assert set(shipped["settings"]) == set(resnet_sweep.SETTINGS)
    for name, setting in shipped["settings"].items():
        config = json.loads(json.dumps(asdict(replace(resnet_sweep.BASE, **resnet_sweep.SETTINGS[name]))))
        assert setting["config"] == config
        assert len(setting["runs"]) == len(config["widths"]) * len(config["seeds"])
        assert all(r["history"]["epoch"][-1] == config["epochs"] for r in setting["runs"])
        assert all({"device", "commit", "date"} <= set(r["provenance"]) for r in setting["runs"])
    setting = shipped["settings"]["resnet18-noise-0.15"]
    curves = sweep_curves.final_curves(setting["runs"], max(setting["config"]["noises"]))
    widths, test, train = curves["widths"], curves["test_error"].mean(axis=0), curves["train_error"].mean(axis=0)
    assert np.all(np.diff(test) < 0)  # "the test error only falls" (at every step of k)
    assert train[widths == 2][0] > 0.15 and train[widths == 3][0] < 0.01  # "a fifth unfitted" / "nearly all"
    assert sweep_curves.interpolation_width(widths, train, eps=0.01) == 3  # "nearly all ... from k = 3 on"
    assert sweep_curves.interpolation_width(widths, train) == 6  # "every one of them ... from k = 6"
    per_k2 = [count_parameters(build_model("resnet18", k, (40,), 10)) / k**2 for k in (8, 16)]
    assert all(900 < c < 1000 for c in per_k2)  # "about 940 k^2"


def test_chapter_5_resnet_on_16000_sequences_peaks_between_its_lines_and_descends_below_its_minimum():
    shipped = _load("resnet_sweep.json")["settings"]
    large = sweep_curves.final_curves(shipped["resnet18-16k-noise-0.15"]["runs"], 0.15)
    small = sweep_curves.final_curves(shipped["resnet18-noise-0.15"]["runs"], 0.15)
    widths, train = large["widths"], large["train_error"]
    reached = [sweep_curves.interpolation_width(widths, train, eps=eps) for eps in (0.1, 0.001, 0)]
    assert reached == [6, 12, 16]  # "at most 10% from k = 6, all but a few in a thousand from 12, all from 16"
    assert [sweep_curves.interpolation_width(small["widths"], small["train_error"], eps=eps)
            for eps in (0.1, 0)] == [3, 6]  # "against 3 and 6 with 4,000"
    peak = sweep_curves.modelwise_peak(large)
    assert (peak.best_below_width, peak.peak_width, peak.widest_width) == (3, 8, 16)
    assert reached[0] <= peak.peak_width <= reached[2]  # "between the two lines"
    assert peak.above_best_below > 0.04 and peak.above_widest > 0.05  # "more than four points", "more than five"
    assert peak.widest_error < peak.best_below_error  # "below its first minimum by k = 16"
    assert all(sweep_curves.peak_claims(large, peak).values())  # every seed at the peak above every seed at k = 3


def test_chapter_5_resnet_epochwise_falls_rises_while_fitting_the_wrong_labels_and_falls_again():
    runs = _load("resnet_sweep.json")["settings"]["resnet18-noise-0.15"]["runs"]
    bumps = sweep_curves.run_bumps(runs)
    past = [b for b in bumps if b.width >= 4]
    assert len(past) == 12  # k = 4, 5, 6, 8 with three seeds each
    for b in past:
        assert b.bump.height >= 0.03, b  # "from k = 4 up, every seed ... rises by three points or more"
        assert 0 < b.fitted[1] < 1, b  # "at its top it has fitted some of them but not all"
        assert b.fitted[2] > 0.999, b  # "its second low comes after it has fitted every one"
    widest = max(b.width for b in bumps)
    for record in sweep_curves.select(runs, width=widest):  # "back within a point of the first low, or below it"
        errors, shape = record["history"]["test_error"], late_bump(record["history"]["test_error"])
        assert errors[shape.after] <= errors[shape.before] + 0.01
    for width in {b.width for b in past}:  # "the seeds reach their tops at different epochs"
        assert len({b.epochs[1] for b in past if b.width == width}) > 1, width
    table = sweep_curves.epoch_table(runs)  # "the heatmap's rows from k = 4 up brighten ... and darken again"
    assert all(late_bump(row).height >= 0.03 for row in table["test_error"][table["widths"] >= 4])
    cnn = _load("mnist1d_cnn-paper.json")  # "what none of the CNN's recipes did": no CNN seed rises 3 points and
    #  falls again once every wrong label is fitted (its bumps of 3 points or more are wiggles while it fits them)
    for b in sweep_curves.run_bumps(sweep_curves.select(cnn["runs"], n_train=4000)):
        assert b.bump.height < 0.03 or b.fitted[2] < 0.5, b


@pytest.fixture(scope="module")
def decomposed() -> dict:
    return _load("mlp_decomposition.json")


def test_chapter_8_decomposition_is_its_script_run_on_the_paper_preset_with_provenance(decomposed):
    from ddd_utils.experiments import mlp_decomposition

    preset = mlp_decomposition.PRESETS["paper"]
    assert decomposed["preset"] == "paper" and decomposed["command"].startswith("python scripts/mlp_decomposition.py")
    assert [trial["config"]["seed"] for trial in decomposed["trials"]] == list(preset.seeds)
    for trial in decomposed["trials"]:
        assert trial["config"] == json.loads(json.dumps({**asdict(preset), "seed": trial["config"]["seed"]}))
        assert {"device", "commit", "date", "torch"} <= set(trial["environment"])
        for row in trial["widths"]:
            assert [h["epoch"][-1] for h in row["histories"]] == [preset.epochs] * mlp_decomposition.HALVES


def test_chapter_8_the_variance_peaks_with_the_risk_where_the_halves_are_first_fitted(decomposed):
    from ddd_utils.experiments import mlp_decomposition

    values = mlp_decomposition.summary(decomposed["trials"])
    widths, peaks = list(values["widths"]), mlp_decomposition.peak_widths(values)
    fitted = widths[int(np.flatnonzero(values["train_error"].mean(axis=0) == 0)[0])]
    for loss in ("ce", "sq"):
        assert abs(widths.index(peaks[f"{loss}_variance"]) - widths.index(peaks[f"{loss}_risk"])) <= 1
        assert peaks[f"{loss}_variance"] == fitted  # "the first width whose training error reaches zero"
        variance = values[f"{loss}_variance"].mean(axis=0)
        assert variance[-1] < variance.max()  # it falls as the networks grow
    peak = sweep_curves.modelwise_peak(values)
    assert peak.above_best_below >= 0.03 and peak.above_widest >= 0.03  # a peak to explain
    # "a grid step or two narrower than the variance's, and its top is flat": every width from the error's peak
    # to the threshold has a mean error inside the trials' range at the peak
    at_peak, at_fitted = widths.index(peak.peak_width), widths.index(fitted)
    assert 1 <= at_fitted - at_peak <= 2
    errors = values["test_error"]
    top = errors[:, at_peak]
    assert all(top.min() <= errors[:, i].mean() <= top.max() for i in range(at_peak, at_fitted + 1))


def test_chapter_8_the_squared_bias_falls_then_stays_flat_and_the_cross_entropy_ascends_finally(decomposed):
    from ddd_utils.experiments import mlp_decomposition

    values = mlp_decomposition.summary(decomposed["trials"])
    widths = list(values["widths"])
    fitted = int(np.flatnonzero(values["train_error"].mean(axis=0) == 0)[0])
    bias = values["sq_bias"].mean(axis=0)
    assert bias[0] - bias[fitted] > 0.2  # falls until the threshold
    assert np.ptp(bias[fitted:]) < 0.1  # nearly flat beyond (its fall before is over twice that)
    peaks = mlp_decomposition.peak_widths(values)
    ce_bias_peak = widths[int(np.argmax(values["ce_bias"].mean(axis=0)))]
    assert abs(widths.index(ce_bias_peak) - widths.index(peaks["ce_variance"])) <= 1  # "the bias peaks too"
    risk, error = values["ce_risk"].mean(axis=0), values["test_error"].mean(axis=0)
    assert risk[-1] > risk[0] and error[-1] < error[0]  # the widest: a higher risk, a lower error


@pytest.fixture(scope="module")
def transformer_search() -> dict:
    return _load("transformer_search.json")


def _search_script(name: str):
    import importlib
    import sys

    sys.path.insert(0, str(RESULTS.parents[1] / "scripts"))
    return importlib.import_module(name)


def test_chapter_6_search_is_its_script_run_with_provenance(transformer_search):
    from ddd_utils.experiments import translation_sweep

    script = _search_script("transformer_search")
    assert transformer_search["command"].startswith("python scripts/transformer_search.py")
    assert set(transformer_search["settings"]) == set(script.SETTINGS)
    for name, setting in transformer_search["settings"].items():
        config = replace(script.BASE, **script.SETTINGS[name])
        assert setting["config"] == json.loads(json.dumps(asdict(config))), name
        assert len(setting["runs"]) == len(translation_sweep.run_configs(config))
        for run in setting["runs"]:
            assert {"device", "commit", "date"} <= set(run["provenance"])
            assert run["history"]["step"][-1] == run["config"]["steps"]  # the whole budget, in epochs
            assert run["config"]["steps"] == -(-config.epochs * run["config"]["n_train"] // config.batch_size)
        small, large = sorted(config.n_trains)
        assert large / small == 4.5  # the paper's 4K and 18K


def test_chapter_6_search_half_the_vocabulary_leaves_the_larger_set_ahead_by_half_a_nat(transformer_search):
    setting = transformer_search["settings"]["small-grammar-n-400-vs-1800-200-epochs"]
    assert np.all(sweep_curves.size_gap(setting["runs"], setting["config"]["n_trains"])["gap"] < -0.5)


def test_chapter_6_search_the_live_vocabulary_has_the_papers_structure_and_the_lead_shrinks(transformer_search):
    from ddd_utils.analysis.curves import locate_bump

    setting = transformer_search["settings"]["n-200-vs-900-300-epochs"]
    gap = sweep_curves.size_gap(setting["runs"], setting["config"]["n_trains"])
    large, small = gap["large"]["test_loss"][0], gap["small"]["test_loss"][0]
    shape = locate_bump(large)
    assert large[shape.peak] > large[shape.before] and shape.peak < len(large) // 2  # a peak at a small d_model
    assert large[shape.peak + 1:].min() < large[shape.peak] - 0.3  # and a second descent after it
    assert np.all(np.diff(small) < 0)  # the smaller set falls along the whole grid
    assert np.all(np.diff(gap["gap"]) > 0) and int(np.argmax(gap["gap"])) == len(gap["gap"]) - 1
    assert gap["widths"][-1] == 256


def test_chapter_6_search_more_data_hurts_at_512_in_every_seed_and_only_slightly_at_256(transformer_search):
    from ddd_utils.engine import searches

    name = "n-200-vs-900-300-epochs"
    runs = searches.with_extra_seeds(transformer_search, name, "d_model")
    gap = sweep_curves.size_gap(runs, transformer_search["settings"][name]["config"]["n_trains"])
    assert list(gap["widths"][-2:]) == [256, 512] and gap["small"]["test_loss"].shape[0] == 3
    per_seed = gap["large"]["test_loss"] - gap["small"]["test_loss"]
    at_256, at_512 = -2, -1
    assert 0 < gap["gap"][at_256] <= 2 * gap["se"][at_256]  # "slightly the higher, but by less than twice its error"
    assert (per_seed[:, at_256] < 0).sum() == 1  # "one of the three seeds has it the other way round"
    assert np.all(per_seed[:, at_512] > 0)  # "every seed has the larger set worse"
    # the goal: at least 0.05 nats, beyond twice the standard error ("several times its standard error")
    assert gap["gap"][at_512] - 2 * gap["se"][at_512] >= 0.05 and gap["gap"][at_512] > 4 * gap["se"][at_512]
    assert list(gap["widths"][gap["hurts"]]) == [512]  # the shaded size
    small, large = gap["small"]["test_loss"].mean(axis=0), gap["large"]["test_loss"].mean(axis=0)
    assert small[at_512] > small[at_256] and large[at_512] - large[at_256] > small[at_512] - small[at_256] > 0
    assert np.all(np.diff(gap["gap"]) > 0)  # the lead shrinks at every step where three seeds ran
    climb = {n: np.mean([r["history"]["test_loss"][-1] - min(r["history"]["test_loss"]) for r in runs
                         if r["config"]["d_model"] == 512 and r["config"]["n_train"] == n]) for n in (200, 900)}
    assert climb[900] > climb[200] > 0  # "at 512 the 900-pair model climbs further"
