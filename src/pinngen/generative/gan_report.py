"""Evaluation of a GAN run: samples from the (averaged) generator, their scores, the two players' training.

Images of a built-in set are scored in the feature space of the project's classifier
(:func:`pinngen.generative.sample_metrics.evaluate_samples`: Fréchet distance, precision/recall,
density/coverage, class histogram) beside per-class Gaussian samples and real test images scored the same way;
vectors are compared with held-out data by two-sample tests (:mod:`pinngen.generative.two_sample`), and the
eight Gaussians also by the modes the samples cover.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import numpy as np

from pinngen.generative import diffusion_data as D

METRIC_KEYS = ("frechet_distance", "precision", "recall", "density", "coverage", "min_class_share")


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    from pinngen.generative.gan_experiment import draw, labels_for

    data: D.DiffusionData = setup.extras["data"]
    spec, ev = setup.spec, cfg.evaluation
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    summary: dict = {"dataset": data.dataset, "loss": spec["gan"]["loss"], "n_samples": ev.n_samples,
                     "architecture": spec["architecture"], "spectral_norm": spec["model"]["spectral_norm"],
                     "r1_gamma": spec["gan"]["r1_gamma"]}
    notes, tables = ([data.note] if data.note else []), []
    key = jax.random.PRNGKey(cfg.seed + 2024)
    t0 = time.perf_counter()
    x = draw(model, spec, ev.n_samples, key, batch_size=ev.batch_size)
    summary["sampling_seconds_per_sample"] = (time.perf_counter() - t0) / ev.n_samples
    samples = D.from_model_space(x, spec)
    np.save(Path(run_dir) / "samples.npy", samples[: min(len(samples), 2000)])
    labels = labels_for(spec, ev.n_samples, None)
    if ev.metrics:
        if data.kind == "image" and data.dataset in D.IMAGE_SETS:
            tables.extend(_image_metrics(samples, labels, data, ev, cfg.seed, summary, notes))
        elif data.kind == "vector":
            tables.extend(_vector_metrics(samples, data, ev, cfg.seed, summary, notes))
        else:
            notes.append("No sample metrics for your own images: the project's feature classifier is trained on "
                         f"the built-in sets ({', '.join(D.IMAGE_SETS)}); judge the grids, or score samples with "
                         "`pinngen evaluate-samples` when they imitate a built-in set.")
    tables.append(training_table(history, summary))
    from pinngen.generative.gan_figures import plot_samples, plot_training

    plot_samples(model, spec, samples, data, ev, key, figs / "samples.png")
    plot_training(history, figs / "gan_training.png")
    notes.append("Samples come from the moving average of the generator's weights when the run keeps one "
                 "(train.ema); see `evaluated_on`. A GAN has no likelihood: no bits/dim, no log_prob.")
    return {"summary": summary, "tables": [t for t in tables if t], "notes": notes}


def _image_metrics(samples, labels, data, ev, seed, summary, notes) -> list[dict]:
    from pinngen.generative import sample_metrics as SM

    asked = None if labels is None else np.asarray(labels)
    result = SM.evaluate_samples(samples, dataset=data.dataset, seed=seed, labels=asked)
    got, ref = result["samples"], result.get("reference") or {}
    rows = [["GAN samples", *[got.get(k) for k in METRIC_KEYS]]]
    summary.update({f"sample_{k}": got[k] for k in METRIC_KEYS if got.get(k) is not None})
    summary["metrics_n"] = result["n"]
    if "label_agreement" in result:
        summary["label_agreement"] = result["label_agreement"]
    if ref:
        rows.append(["real test images (reference)", *[ref.get(k) for k in METRIC_KEYS]])
        summary["reference_frechet_distance"] = ref.get("frechet_distance")
    if ev.baseline and data.y_train is not None:
        base = SM.per_class_gaussian_samples(data.raw_train, data.y_train, len(samples), seed)
        b = SM.evaluate_samples(base, dataset=data.dataset, seed=seed)["samples"]
        rows.append(["per-class Gaussian samples", *[b.get(k) for k in METRIC_KEYS]])
        summary["baseline_gaussian_frechet_distance"] = b.get("frechet_distance")
    acc = result["classifier"].get("test_accuracy")
    summary["classifier_test_accuracy"] = acc
    tables = [{"title": "Sample quality", "columns": ["samples", *METRIC_KEYS], "rows": rows,
               "note": f"Feature space: the project's {result['dataset']} classifier (test accuracy {acc:.3f}); "
                       f"N = {result['n']} samples against N training images; the reference row scores N real "
                       "test images the same way. Lower Fréchet distance is better; precision = share of samples "
                       "that look real, recall = share of the data the samples cover (Kynkäänniemi et al. 2019); "
                       "density/coverage (Naeem et al. 2020), k = 5."}]
    hist = result.get("class_histogram")
    if hist:
        rows_h = [[c, s, d] for c, s, d in zip(hist["classes"], hist["shares"], hist["data_shares"], strict=True)]
        tables.append({"title": "Class histogram of the samples", "columns": ["class", "share of samples",
                                                                              "share of data"], "rows": rows_h,
                       "note": f"Classes by the classifier's argmax; under-produced: {hist['under_threshold']}."})
        if hist.get("under_produced"):
            notes.append(f"Under-produced classes: {', '.join(hist['under_produced'])} (a sign of partial mode "
                         "collapse: see the diagnosis).")
    return tables


def _vector_metrics(samples, data, ev, seed, summary, notes) -> list[dict]:
    from pinngen.generative.gan_tracking import EIGHT_GAUSSIANS, mode_coverage
    from pinngen.generative.two_sample import energy_test, mmd_test

    ref = data.raw_test
    rows = []
    for name, fn, key in (("energy distance", energy_test, "energy"), ("MMD (Gaussian kernel)", mmd_test, "mmd")):
        r = fn(samples, ref, permutations=ev.permutations, seed=seed, max_points=1000)
        rows.append([name, r["statistic"], r["p_value"], r["n_x"], r["n_y"]])
        summary[f"{key}_p_value"] = r["p_value"]
    half = len(ref) // 2
    if half >= 2:
        r = energy_test(ref[:half], ref[half:], permutations=ev.permutations, seed=seed, max_points=1000)
        rows.append(["energy, data vs data (reference)", r["statistic"], r["p_value"], r["n_x"], r["n_y"]])
    p = summary["energy_p_value"]
    notes.append(f"Two-sample energy test of the samples against held-out data: p = {p:.3f}"
                 + (" (no detectable difference at the 1 % level)." if p >= 0.01 else
                    " (the samples differ detectably from the data)."))
    tables = [{"title": "Two-sample tests", "columns": ["test", "statistic", "p-value", "samples", "data"],
               "rows": rows, "note": "Permutation p-values; a small p-value (< 0.01) says the samples and the data "
                                     "differ. The data-vs-data row shows the statistic's scale when they agree."}]
    if data.dataset == "eight_gaussians":
        covered, good = mode_coverage(samples, EIGHT_GAUSSIANS["centres"], EIGHT_GAUSSIANS["std"])
        ref_cov, ref_good = mode_coverage(ref, EIGHT_GAUSSIANS["centres"], EIGHT_GAUSSIANS["std"])
        summary["modes_covered"], summary["good_share"] = covered, good
        tables.append({"title": "Mode coverage", "columns": ["points", "modes covered (of 8)", "share within 3 sd"],
                       "rows": [["GAN samples", covered, good], ["held-out data", ref_cov, ref_good]],
                       "note": "A mode is covered when at least a fifth of its equal share of the points lies "
                               "within 3 standard deviations (0.3) of its centre."})
    return tables


def _tail(history, name: str):
    if name not in history:
        return None
    _, v = history.series(name)
    v = v[np.isfinite(v)]
    return v if len(v) else None


def training_table(history, summary: dict) -> dict:
    """First, best and last of each tracked metric, and the players' final losses and gradient norms."""
    rows = []
    for col in sorted(c for c in history.columns if c.startswith("metric/")):
        v = _tail(history, col)
        if v is None:
            continue
        rows.append([col.removeprefix("metric/"), float(v[0]), float(np.min(v)), float(np.max(v)), float(v[-1])])
        summary[f"final_{col.removeprefix('metric/')}"] = float(v[-1])
    for col in ("loss/discriminator", "loss/generator", "grad_norm/discriminator", "grad_norm/generator"):
        v = _tail(history, col)
        if v is not None:
            k = max(1, len(v) // 20)
            rows.append([col, float(np.median(v[:k])), float(np.min(v)), float(np.max(v)), float(np.median(v[-k:]))])
    return {"title": "Training of the two players", "columns": ["series", "first", "min", "max", "last"],
            "rows": rows, "note": "metric/*: tracked every eval_every steps on fixed latents and real samples "
                                  "(d_acc_*: the discriminator's accuracy on real / generated samples); losses and "
                                  "gradient norms: medians of the first and last 5 % of steps."}


def headline(metrics: dict) -> str:
    s = metrics.get("summary", {})
    fd = s.get("sample_frechet_distance")
    if fd is not None:
        text = f"Fréchet distance {fd:.3g} ({s.get('loss')} GAN, N = {s.get('metrics_n', s.get('n_samples'))}"
        if s.get("reference_frechet_distance") is not None:
            text += f"; real test images score {s['reference_frechet_distance']:.3g}"
        text += ")"
        b = s.get("baseline_gaussian_frechet_distance")
        if b is not None:
            text += f" against {b:.3g} for per-class Gaussian samples: " + (
                "better than the baseline." if fd < b else "NOT better than the baseline.")
        if s.get("sample_min_class_share") is not None:
            text += f" Least produced class: {100 * s['sample_min_class_share']:.1f} % of the samples."
        return text
    if s.get("energy_p_value") is not None:
        p = s["energy_p_value"]
        text = (f"Two-sample energy test against held-out data: p = {p:.3f} "
                + ("(samples and data are indistinguishable at the 1 % level)." if p >= 0.01 else
                   "(the samples differ from the data)."))
        if s.get("modes_covered") is not None:
            text += f" The samples cover {s['modes_covered']} of the 8 modes."
        return text
    return f"{s.get('n_samples', '?')} samples drawn from the {s.get('loss', '')} GAN's generator."
