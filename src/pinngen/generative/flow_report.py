"""Evaluation and figures of a flow run: test likelihood, the invertibility check, samples.

Vectors: test and training log-likelihood in nats per sample in the data's units (the flow's density plus the
standardisation's log-determinant), beside a full-covariance Gaussian fitted to the training data; for the 2-D
toys also the exact density's test log-likelihood and the gap (an estimate of KL(data || flow) >= 0, with its
standard error); samples against held-out data by energy/MMD two-sample tests. Images: test bits/dim of the
256-level data (the dequantised bound, one seeded draw per image) beside the add-one per-pixel histogram.

Invertibility: ``max |f^-1(f(x)) - x|`` on a test batch; above ``evaluation.inversion_tolerance`` the run gets a
``flow_not_invertible`` finding (the likelihoods are then not trustworthy). A run whose loss became non-finite
keeps the last finite weights (the core loop stops before the bad update); the notes say so.
"""

from __future__ import annotations

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pinngen.core.findings import Finding
from pinngen.generative import flow_data as FD
from pinngen.generative import toys as T

LN2 = math.log(2.0)


def _se(v: np.ndarray) -> float:
    return float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")


def gaussian_log_prob(train: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Log-density ``(n,)`` of ``x`` under the full-covariance Gaussian fitted (maximum likelihood) to ``train``."""
    mu = train.mean(0)
    cov = np.atleast_2d(np.cov(train, rowvar=False, bias=True)) + 1e-9 * np.eye(train.shape[1])
    chol = np.linalg.cholesky(cov)
    r = np.linalg.solve(chol, (x - mu).T)  # (d, n)
    return -0.5 * np.sum(r * r, 0) - np.sum(np.log(np.diag(chol))) - 0.5 * train.shape[1] * math.log(2 * math.pi)


def inversion_error(model, spec: dict, m: np.ndarray, seed: int) -> float:
    """``max |f^-1(f(x)) - x|`` over the model-space batch ``m``, in the data's units (images: dequantised)."""
    from pinngen.generative.flows import image as FI

    if spec["data_kind"] == "image":
        y = FI.dequantize(jax.random.PRNGKey(seed), jnp.asarray(m))
        return FI.inversion_error(model, y)
    back = np.asarray(_round_trip(model, jnp.asarray(m)))
    return float(np.max(np.abs(back - m) * np.asarray(spec["std"])))


@eqx.filter_jit
def _round_trip(model, m):
    return model.from_base(model.to_base(m))


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    from pinngen.generative import flow_experiment as F

    data: FD.FlowData = setup.extras["data"]
    spec, ev = setup.spec, cfg.evaluation
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    image = data.kind == "image"
    summary: dict = {"dataset": data.dataset, "flow": "multi-scale (Glow)" if image else spec["flow"]["flow"],
                     "dims": int(np.prod(data.shape))}
    notes = [data.note] if data.note else []
    if history.meta.get("diverged"):
        notes.append("The loss became non-finite: training stopped there, and the model kept (and evaluated) is the "
                     "last one with finite weights (the loop stops before the bad update). Lower the learning rate "
                     "or add gradient clipping (train.phases.0.clip_norm).")
    x_test = data.x_test[:ev.max_eval]
    x_train = data.x_train[:min(len(data.x_train), ev.max_eval or len(x_test))]
    lp_test = F.model_log_prob(model, spec, x_test, batch_size=ev.batch_size, seed=cfg.seed + 1) \
        + F.log_det_standardise(spec)
    lp_train = F.model_log_prob(model, spec, x_train, batch_size=ev.batch_size, seed=cfg.seed + 2) \
        + F.log_det_standardise(spec)
    if image:
        tables = [_image_table(data, lp_test, lp_train, summary, notes)]
    else:
        tables = [_vector_table(data, spec, lp_test, lp_train, summary, notes)]
    err = inversion_error(model, spec, x_test[:500], cfg.seed)
    summary["inversion_error"] = err
    if not np.isfinite(err) or err > ev.inversion_tolerance:
        msg = (f"The flow's round trip f^-1(f(x)) misses test points by up to {err:.3g} (tolerance "
               f"{ev.inversion_tolerance:g}): it is not numerically invertible there, so its log-likelihoods and "
               "samples do not belong to one density.")
        hint = ("Lower the learning rate or clip gradients; for images lower model.scale_bound or use float64 "
                "(dtype: float64) to check; for nsf keep the standardised data inside model.interval.")
        setup.findings.append(Finding("flow_not_invertible", "warning", msg, hint, int(len(history)), "loss"))
        notes.append(msg + " " + hint)
    else:
        notes.append(f"Invertibility: max |f^-1(f(x)) - x| = {err:.2g} on {min(len(x_test), 500)} test points "
                     f"(tolerance {ev.inversion_tolerance:g}).")
    key = jax.random.PRNGKey(cfg.seed + 2024)
    samples = F.sample(model, spec, ev.n_samples, key, batch_size=ev.batch_size)
    np.save(Path(run_dir) / "samples.npy", samples)
    summary["non_finite_samples"] = int(np.sum(~np.isfinite(samples.reshape(len(samples), -1)).all(1)))
    if image:
        _image_figures(model, spec, ev, key, figs)
    else:
        test_units = data.to_data_units(x_test)
        if ev.two_sample:
            tables.append(_two_sample(samples, test_units, ev, cfg.seed, summary))
        _vector_figures(model, spec, data, samples, test_units, ev, figs)
    return {"summary": summary, "tables": tables, "notes": notes}


def _vector_table(data, spec, lp_test, lp_train, summary, notes) -> dict:
    units = data.to_data_units
    summary.update(test_nll_nats=float(-np.mean(lp_test)), test_nll_se=_se(lp_test),
                   train_nll_nats=float(-np.mean(lp_train)), n_test=len(lp_test))
    rows = [[f"flow ({spec['flow']['flow']}, {spec['flow']['layers']} layers)", float(np.mean(lp_test)),
             _se(lp_test), float(np.mean(lp_train))]]
    raw_train, raw_test = units(data.x_train).astype(np.float64), units(data.x_test[:len(lp_test)]).astype(np.float64)
    g_test = gaussian_log_prob(raw_train, raw_test)
    summary["gaussian_test_nll_nats"] = float(-np.mean(g_test))
    rows.append(["full-covariance Gaussian (baseline)", float(np.mean(g_test)), _se(g_test),
                 float(np.mean(gaussian_log_prob(raw_train, raw_train[:len(lp_train)])))])
    toy = spec.get("toy")
    if toy in T.EXACT_DENSITY:
        exact = T.toy_log_prob(toy, raw_test)
        ok = np.isfinite(exact)
        gap = exact[ok] - lp_test[ok]
        summary.update(exact_test_log_likelihood=float(np.mean(exact[ok])), test_log_likelihood=float(np.mean(
            lp_test)), gap_nats=float(np.mean(gap)), gap_se=_se(gap))
        rows.append([f"exact {toy} density (reference)", float(np.mean(exact[ok])), _se(exact[ok]), None])
        notes.append(f"Gap to the exact density: {summary['gap_nats']:.4f} +- {summary['gap_se']:.4f} nats per "
                     "sample (mean over test points of log p_exact - log p_flow: an estimate of KL(data || flow), "
                     "0 for a perfect flow; its standard error is over test points).")
    notes.append(f"Log-likelihoods are in nats per sample in the data's units: the flow models the standardised "
                 f"data and the standardisation adds {-float(np.sum(np.log(spec['std']))):.4g} nats "
                 "(-sum log std).")
    return {"title": "Test likelihood", "columns": ["model", "test log-likelihood (nats)", "standard error",
                                                    "train log-likelihood (nats)"],
            "rows": rows, "note": f"Mean log p(x) over {len(lp_test)} test points (higher is better)."}


def _image_table(data, lp_test, lp_train, summary, notes) -> dict:
    from pinngen.generative.likelihood import histogram_baseline

    dims = int(np.prod(data.shape))
    bpd = -lp_test / (dims * LN2)
    summary.update(test_bpd=float(np.mean(bpd)), test_bpd_se=_se(bpd), train_bpd=float(np.mean(-lp_train)
                                                                                         / (dims * LN2)),
                   test_nll_nats=float(-np.mean(lp_test)), n_test=len(lp_test))
    pix = lambda x: np.rint(np.asarray(x) * 255).astype(np.int64).reshape(len(x), -1)  # noqa: E731
    base = histogram_baseline(pix(data.x_train), pix(data.x_test[:len(lp_test)]))
    summary["histogram_bpd"] = base["bpd"]
    notes.append("Bits/dim of the 256-level images: (nll + D ln 256) / (D ln 2) of the density over uniformly "
                 "dequantised pixels, an upper bound on the discrete model's bits/dim (Theis et al. 2016); one "
                 "seeded dequantisation draw per image.")
    return {"title": "Test likelihood", "columns": ["model", "test bits/dim", "standard error", "train bits/dim"],
            "rows": [["multi-scale flow", summary["test_bpd"], summary["test_bpd_se"], summary["train_bpd"]],
                     ["per-pixel histogram (baseline)", base["bpd"], None, None]],
            "note": f"{len(lp_test)} test images; lower is better; 8 bits/dim is a uniform density."}


def _two_sample(samples, ref, ev, seed, summary) -> dict:
    from pinngen.generative.two_sample import energy_test, mmd_test

    rows = []
    for name, fn, k in (("energy distance", energy_test, "energy"), ("MMD (Gaussian kernel)", mmd_test, "mmd")):
        r = fn(samples, ref, permutations=ev.permutations, seed=seed, max_points=1000)
        rows.append([name, r["statistic"], r["p_value"], r["n_x"], r["n_y"]])
        summary[f"{k}_p_value"] = r["p_value"]
    return {"title": "Two-sample tests", "columns": ["test", "statistic", "p-value", "samples", "data"],
            "rows": rows, "note": "Samples against held-out data; a small p-value (< 0.01) says they differ."}


# --------------------------------------------------------------------------------------------- figures


def _vector_figures(model, spec, data, samples, test_units, ev, figs: Path) -> None:
    from pinngen.generative.diffusion_figures import plot_points

    plot_points(samples, test_units, figs / "samples.png", title=f"Flow samples vs held-out {data.dataset}")
    if data.shape[0] == 2:
        plot_density(model, spec, test_units, ev.grid_points, figs / "density.png")


def plot_density(model, spec, ref: np.ndarray, n: int, path: Path) -> None:
    """The learned density on a grid over the data (and the exact one beside it for a toy)."""
    from pinngen.generative import flow_experiment as F
    from pinngen.report.draw import new_figure, save_png

    lo, hi = np.percentile(ref, 0.5, 0), np.percentile(ref, 99.5, 0)
    pad = 0.15 * (hi - lo)
    xs, ys = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n), np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    pts = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    panels = [("flow density", F.log_prob(model, spec, pts))]
    toy = spec.get("toy")
    if toy in T.EXACT_DENSITY:
        panels.append((f"exact {toy} density", T.toy_log_prob(toy, pts)))
    fig = new_figure(4.2 * len(panels), 4.0)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True, sharey=True))
    vmax = max(float(np.nanmax(np.exp(lp))) for _, lp in panels)
    for ax, (title, lp) in zip(axes, panels, strict=True):
        ax.imshow(np.exp(lp).reshape(n, n), origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap="magma",
                  vmin=0.0, vmax=vmax, aspect="equal")
        ax.set_title(title, fontsize=10)
    fig.suptitle("Density p(x) in the data's units (same colour scale)", fontsize=11)
    save_png(fig, path)


def _image_figures(model, spec, ev, key, figs: Path) -> None:
    from pinngen.generative import flow_experiment as F
    from pinngen.report.plots_predictions import plot_image_grid

    g = ev.grid
    for i, t in enumerate(ev.temperatures):
        x = F.sample(model, spec, g * g, jax.random.fold_in(key, 10 + i), temperature=t)
        plot_image_grid([x[r * g:(r + 1) * g] for r in range(g)], figs / f"samples_T{t:g}.png",
                        title=f"Flow samples at temperature {t:g}")


def headline(metrics: dict) -> str:
    s = metrics.get("summary", {})
    if s.get("test_bpd") is not None:
        text = f"{s['test_bpd']:.3f} bits/dim on the test images"
        h = s.get("histogram_bpd")
        if h is not None:
            verdict = "better" if s["test_bpd"] < h else "NOT better"
            text += f" against {h:.3f} for the per-pixel histogram: {verdict} than a model of independent pixels"
        return text + "."
    if s.get("gap_nats") is not None:
        return (f"Test log-likelihood {s['test_log_likelihood']:.3f} nats per sample against "
                f"{s['exact_test_log_likelihood']:.3f} for the exact {s.get('dataset')} density: a gap of "
                f"{s['gap_nats']:.3f} +- {s['gap_se']:.3f} nats ({s.get('flow')} flow).")
    if s.get("test_nll_nats") is not None:
        g = s.get("gaussian_test_nll_nats")
        text = f"Test log-likelihood {-s['test_nll_nats']:.3f} nats per sample ({s.get('flow')} flow)"
        return text + (f" against {-g:.3f} for a full-covariance Gaussian." if g is not None else ".")
    return "Flow trained; no test likelihood recorded."
