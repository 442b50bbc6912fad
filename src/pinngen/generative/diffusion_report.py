"""Evaluation and figures of a diffusion run: samples, their scores, sampler timings, the denoising trajectory.

Images of a built-in dataset are scored in the feature space of the project's own classifier
(:mod:`pinngen.generative.sample_metrics`: Fréchet distance, precision/recall, density/coverage, class
histogram), next to per-class Gaussian samples and real test images scored the same way; vectors (the 2-D toys,
a user's array) are compared with held-out data by two-sample tests (:mod:`pinngen.generative.two_sample`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import jax
import numpy as np

from pinngen.generative import diffusion_data as D

log = logging.getLogger(__name__)

METRIC_KEYS = ("frechet_distance", "precision", "recall", "density", "coverage", "min_class_share")


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    jax.block_until_ready(out)
    return out, time.perf_counter() - t0


def _parse_timing(name: str, T: int) -> tuple[str, int | None]:
    if name == "ddpm":
        return "ddpm", None
    if name.startswith("ddim-") and name[5:].isdigit():
        return "ddim", min(int(name[5:]), T)
    raise ValueError(f"evaluation.timing entry {name!r}: use ddpm or ddim-<steps>")


def sampler_timings(model, spec: dict, names, n: int, seed: int) -> list[list]:
    """Seconds per sample of each sampler, measured on a second call (the first compiles)."""
    from pinngen.generative.diffusion_experiment import draw

    rows = []
    for name in names:
        sampler, steps = _parse_timing(name, spec["diffusion"]["T"])
        key = jax.random.PRNGKey(seed)
        _, first = _timed(draw, model, spec, n, key, sampler=sampler, steps=steps, batch_size=n)
        _, second = _timed(draw, model, spec, n, jax.random.fold_in(key, 1), sampler=sampler, steps=steps,
                           batch_size=n)
        evals = spec["diffusion"]["T"] if sampler == "ddpm" else steps
        rows.append([name, evals, second / n, first - second])
    return rows


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    from pinngen.generative.diffusion_experiment import draw

    data: D.DiffusionData = setup.extras["data"]
    spec, ev = setup.spec, cfg.evaluation
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    s = spec["sampling"]
    used = f"{s['sampler']}" + (f"-{s['steps']}" if s["sampler"] == "ddim" else f"-{spec['diffusion']['T']}")
    summary: dict = {"dataset": data.dataset, "sampler": used, "n_samples": ev.n_samples,
                     "prediction": spec["diffusion"]["prediction"], "schedule": spec["diffusion"]["schedule"]}
    if s["guidance"] is not None:
        summary["guidance"] = s["guidance"]
    notes, tables = [], []
    if data.note:
        notes.append(data.note)
    key = jax.random.PRNGKey(cfg.seed + 2024)
    x, seconds = _timed(draw, model, spec, ev.n_samples, key, batch_size=ev.batch_size)
    samples = D.from_model_space(np.asarray(x), spec)
    summary["sampling_seconds_per_sample"] = seconds / ev.n_samples
    np.save(Path(run_dir) / "samples.npy", samples[: min(len(samples), 2000)])
    if ev.metrics:
        if data.kind == "image" and data.dataset in D.IMAGE_SETS:
            tables.extend(_image_metrics(samples, data, ev, cfg.seed, summary, notes))
        elif data.kind == "vector":
            tables.append(_two_sample(samples, data, ev, cfg.seed, summary, notes))
        else:
            notes.append("No sample metrics for your own images: the project's feature classifier is trained on "
                         f"the built-in sets ({', '.join(D.IMAGE_SETS)}); score samples with "
                         "`pinngen evaluate-samples` against one of them, or judge the grids.")
    if ev.timing:
        rows = sampler_timings(model, spec, ev.timing, ev.timing_samples, cfg.seed)
        tables.append({"title": "Sampling time per sample", "columns": ["sampler", "denoiser calls",
                                                                        "seconds per sample", "compile seconds"],
                       "rows": rows, "note": f"Measured on {ev.timing_samples} samples drawn at once, on this "
                                             "machine; the first call (compilation) is not counted."})
    tables.append(_bucket_table(history))
    _figures(model, spec, data, samples, ev, key, figs, history)
    notes.append("Scores and figures use the exponential moving average of the weights when the run keeps one "
                 "(train.ema), the usual choice for diffusion models; see `evaluated_on`.")
    return {"summary": summary, "tables": [t for t in tables if t], "notes": notes}


def _image_metrics(samples, data, ev, seed, summary, notes) -> list[dict]:
    from pinngen.generative import sample_metrics as SM

    result = SM.evaluate_samples(samples, dataset=data.dataset, seed=seed)
    got, ref = result["samples"], result.get("reference") or {}
    rows = [["diffusion samples", *[got.get(k) for k in METRIC_KEYS]]]
    summary.update({f"sample_{k}": got[k] for k in METRIC_KEYS if got.get(k) is not None})
    summary["metrics_n"] = result["n"]
    if ref:
        rows.append(["real test images (reference)", *[ref.get(k) for k in METRIC_KEYS]])
        summary["reference_frechet_distance"] = ref.get("frechet_distance")
    if ev.baseline and data.y_train is not None:
        base = SM.per_class_gaussian_samples(data.raw_train, data.y_train, len(samples), seed)
        b = SM.evaluate_samples(base, dataset=data.dataset, seed=seed)["samples"]
        rows.append(["per-class Gaussian samples", *[b.get(k) for k in METRIC_KEYS]])
        summary["baseline_gaussian_frechet_distance"] = b.get("frechet_distance")
        fd, bfd = got.get("frechet_distance"), b.get("frechet_distance")
        if fd is not None and bfd is not None:
            notes.append(f"Fréchet distance {fd:.3g} against {bfd:.3g} for per-class Gaussian samples: "
                         + ("the model beats the Gaussian baseline." if fd < bfd else
                            "the model does NOT beat per-class Gaussians yet; train longer."))
    acc = result["classifier"].get("test_accuracy")
    summary["classifier_test_accuracy"] = acc
    note = (f"Feature space: the project's {result['dataset']} classifier (test accuracy {acc:.3f}); "
            f"N = {result['n']} samples against N training images; the reference row scores N real test images "
            "the same way (what a perfect sampler gets at this N). Lower Fréchet distance is better; precision = "
            "share of samples that look real, recall = share of the data the samples cover (Kynkäänniemi et al. "
            "2019); density/coverage (Naeem et al. 2020), k = 5.")
    tables = [{"title": "Sample quality", "columns": ["samples", *METRIC_KEYS], "rows": rows, "note": note}]
    hist = result.get("class_histogram")
    if hist:
        rows_h = [[c, s, d] for c, s, d in zip(hist["classes"], hist["shares"], hist["data_shares"], strict=True)]
        tables.append({"title": "Class histogram of the samples", "columns": ["class", "share of samples",
                                                                              "share of data"], "rows": rows_h,
                       "note": f"Classes by the classifier's argmax; under-produced: {hist['under_threshold']}."})
        if hist.get("under_produced"):
            notes.append(f"Under-produced classes: {', '.join(hist['under_produced'])} (the model's data-bias "
                         "lesson: these look rarer in the samples than in the data).")
    return tables


def _two_sample(samples, data, ev, seed, summary, notes) -> dict:
    from pinngen.generative.two_sample import energy_test, mmd_test

    ref = data.raw_test
    rows = []
    for name, fn in (("energy distance", energy_test), ("MMD (Gaussian kernel)", mmd_test)):
        r = fn(samples, ref, permutations=ev.permutations, seed=seed, max_points=1000)
        rows.append([name, r["statistic"], r["p_value"], r["n_x"], r["n_y"]])
        summary[f"{'energy' if 'energy' in name else 'mmd'}_p_value"] = r["p_value"]
    half = len(ref) // 2
    if half >= 2:
        r = energy_test(ref[:half], ref[half:], permutations=ev.permutations, seed=seed, max_points=1000)
        rows.append(["energy, data vs data (reference)", r["statistic"], r["p_value"], r["n_x"], r["n_y"]])
    ok = summary["energy_p_value"] >= 0.01
    notes.append(f"Two-sample energy test of the samples against held-out data: p = {summary['energy_p_value']:.3f}"
                 + (" (no detectable difference at the 1 % level)." if ok else
                    " (the samples differ detectably from the data)."))
    return {"title": "Two-sample tests", "columns": ["test", "statistic", "p-value", "samples", "data"],
            "rows": rows, "note": "Permutation p-values; a small p-value (< 0.01) says the samples and the data "
                                  "differ. The data-vs-data row shows the statistic's scale when they agree."}


def _bucket_table(history) -> dict | None:
    cols = [c for c in history.columns if c.startswith("metric/loss_t")]
    if not cols:
        return None
    rows = []
    for c in cols:
        v = history.column(c)
        v = v[np.isfinite(v)]
        if len(v):
            rows.append([c.removeprefix("metric/loss_"), float(v[0]), float(v[-1]), float(v[-1] / v[0])])
    return {"title": "Denoising loss per noise level (validation)", "columns": ["timesteps", "first", "last",
                                                                                "last / first"],
            "rows": rows, "note": "Unweighted loss of fixed validation samples at each noise level; levels whose "
                                  "ratio stays near 1 have not been learned."}


def _figures(model, spec, data, samples, ev, key, figs, history) -> None:
    from pinngen.generative.diffusion_figures import plot_buckets, plot_points, plot_samples, plot_trajectory

    plot_buckets(history, figs / "loss_per_noise_level.png")
    if data.kind == "image":
        plot_samples(model, spec, samples, ev, key, figs / "samples.png")
        if ev.trajectory_samples:
            plot_trajectory(model, spec, ev.trajectory_samples, key, figs / "trajectory.png")
    else:
        plot_points(samples, data.raw_test, figs / "samples.png", title=f"Samples vs held-out {data.dataset}")


def headline(metrics: dict) -> str:
    s = metrics.get("summary", {})
    fd = s.get("sample_frechet_distance")
    if fd is not None:
        text = f"Fréchet distance {fd:.3g} ({s.get('sampler')}, N = {s.get('metrics_n', s.get('n_samples'))}"
        if s.get("reference_frechet_distance") is not None:
            text += f"; real test images score {s['reference_frechet_distance']:.3g}"
        text += ")"
        b = s.get("baseline_gaussian_frechet_distance")
        if b is not None:
            text += f" against {b:.3g} for per-class Gaussian samples: " + (
                "better than the baseline." if fd < b else "NOT better than the baseline.")
            return text
        return text + "."
    if s.get("energy_p_value") is not None:
        p = s["energy_p_value"]
        return (f"Two-sample energy test against held-out data: p = {p:.3f} "
                + ("(samples and data are indistinguishable at the 1 % level)." if p >= 0.01 else
                   "(the samples differ from the data)."))
    return f"{s.get('n_samples', '?')} samples drawn with {s.get('sampler', '?')}."
