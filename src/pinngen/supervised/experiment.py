"""The ``dense`` experiment kind: an MLP on a table (regression or classification), Keras-style.

Data comes from a vendored dataset (``diabetes``, ``digits``), a CSV (``path`` + ``target``) or an ``.npz``
with arrays ``x`` and ``y``. Features and (for regression) targets are standardised; predictions are
returned in the original units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ConfigError, InitName, RunConfig
from pinngen.core import advisor, dtypes
from pinngen.core.batched import batched_apply, call_model
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.losses import LOSSES, OUTPUT_ACTIVATIONS
from pinngen.core.nn import ACTIVATIONS, MLP
from pinngen.core.setup import Setup
from pinngen.data import DataError, load_csv, load_dataset, load_numpy, scaler_from_dict, train_val_test_split
from pinngen.data.scaling import MinMaxScaler, StandardScaler
from pinngen.supervised.model import Supervised

TASKS = ("auto", "regression", "binary", "multiclass", "multilabel", "probabilistic")


class DenseData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str | None = Field("diabetes", description="vendored/named dataset, or null to read `path`")
    path: str | None = Field(None, description="CSV or .npz (arrays x, y) file")
    target: str | int | None = Field(-1, description="CSV target column (name or index)")
    val: float = Field(0.15, ge=0.0, lt=1.0)
    test: float = Field(0.15, ge=0.0, lt=1.0)
    scale_x: Literal["standard", "minmax", "none"] = "standard"
    scale_y: Literal["standard", "minmax", "none"] = "standard"


class DenseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: list[int] = Field(default_factory=lambda: [10, 10])
    activation: str | list[str] = "relu"
    output_activation: str = Field("auto", description="auto: the advisor's choice for the task")
    loss: str = Field("auto", description="auto: the advisor's choice for the task")
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init: InitName = "glorot_uniform"

    @field_validator("activation")
    @classmethod
    def _act(cls, v):
        for a in [v] if isinstance(v, str) else v:
            if a not in ACTIVATIONS:
                raise ValueError(f"unknown activation {a!r}; choose one of {', '.join(sorted(ACTIVATIONS))}")
        return v

    @field_validator("output_activation")
    @classmethod
    def _out(cls, v):
        if v != "auto" and v not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"unknown output activation {v!r}; choose auto or one of "
                             f"{', '.join(sorted(OUTPUT_ACTIVATIONS))}")
        return v

    @field_validator("loss")
    @classmethod
    def _loss(cls, v):
        if v != "auto" and v not in LOSSES:
            raise ValueError(f"unknown loss {v!r}; choose auto or one of {', '.join(sorted(LOSSES))}")
        return v


class Config(RunConfig):
    kind: Literal["dense"] = "dense"
    task: Literal["auto", "regression", "binary", "multiclass", "multilabel", "probabilistic"] = "auto"
    data: DenseData = Field(default_factory=DenseData)
    model: DenseModel = Field(default_factory=DenseModel)


def load_table(d: DenseData) -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """Features (n, d) float and targets (n,) or (n, k) from the configured source."""
    if d.path is not None:
        p = Path(d.path)
        if not p.exists():
            raise ConfigError(f"config error: data.path: file not found: {d.path}")
        if p.suffix in (".npz", ".npy"):
            arrs = load_numpy(p)
            if not isinstance(arrs, dict) or "x" not in arrs or "y" not in arrs:
                raise ConfigError(f"config error: data.path: {d.path} must be an .npz with arrays 'x' and 'y'")
            x = np.asarray(arrs["x"], np.float64).reshape(len(arrs["x"]), -1)
            return x, np.asarray(arrs["y"]), [f"x{i}" for i in range(x.shape[1])], "y"
        t = load_csv(p, target=d.target)
        return t.x, t.y, list(t.feature_names), t.target_name or "y"
    if d.dataset is None:
        raise ConfigError("config error: data: give data.dataset (e.g. diabetes) or data.path (CSV/.npz)")
    try:
        ds = load_dataset(d.dataset)
    except ValueError as e:
        raise ConfigError(f"config error: data.dataset: {e}") from None
    if hasattr(ds, "feature_names"):
        return ds.x, ds.y, list(ds.feature_names), ds.target_name or "y"
    x = np.concatenate([ds.x_train, ds.x_test]).reshape(len(ds.x_train) + len(ds.x_test), -1)
    y = np.concatenate([ds.y_train, ds.y_test])
    return x / ds.pixel_max, y, [f"px{i}" for i in range(x.shape[1])], "label"


def _scaler(kind: str):
    return {"standard": StandardScaler(), "minmax": MinMaxScaler(), "none": None}[kind]


def _resolve_task(cfg: Config, y: np.ndarray):
    task = cfg.task if cfg.task != "auto" else advisor.infer_task(y)
    n_classes = int(np.max(y)) + 1 if task == "multiclass" and y.ndim == 1 else None
    n_out = y.shape[1] if y.ndim == 2 else (n_classes or 1)
    adv = advisor.advise(task, n_outputs=n_out, n_classes=n_classes)
    act = adv.output_activation if cfg.model.output_activation == "auto" else cfg.model.output_activation
    loss = adv.loss if cfg.model.loss == "auto" else cfg.model.loss
    return task, adv.output_size, act, loss


def setup(cfg: Config) -> Setup:
    x, y, features, target = load_table(cfg.data)
    if not np.all(np.isfinite(x)):
        raise DataError(f"{cfg.data.path or cfg.data.dataset}: features contain NaN or inf")
    task, n_out, act, loss = _resolve_task(cfg, y)
    classify = task in ("binary", "multiclass", "multilabel", "probabilistic")
    stratify = y if task in ("binary", "multiclass") else None
    split = train_val_test_split(len(x), val=cfg.data.val, test=cfg.data.test, seed=cfg.seed, stratify=stratify)
    sx = _scaler(cfg.data.scale_x)
    sy = None if classify else _scaler(cfg.data.scale_y)
    if sx is not None:
        sx.fit(x[split.train])
    if sy is not None:
        sy.fit(y[split.train].reshape(len(split.train), -1))
    dtype = dtypes.jnp_dtype(cfg.dtype)

    def part(idx):
        xs = sx.transform(x[idx]) if sx is not None else x[idx]
        ys = y[idx]
        if sy is not None:
            ys = sy.transform(ys.reshape(len(idx), -1)).reshape(ys.shape)
        ys = ys.astype(np.int32) if (task == "multiclass" and ys.ndim == 1) else ys.astype(dtype)
        return {"x": jnp.asarray(xs, dtype), "y": jnp.asarray(ys)}

    spec = dict(in_size=x.shape[1], out_size=n_out, hidden=list(cfg.model.hidden),
                activation=cfg.model.activation, output_activation=act, dropout=cfg.model.dropout,
                init=cfg.model.init, loss=loss, task=task, features=features, target=target,
                dtype=cfg.dtype, scaler_x=sx.to_dict() if sx else None, scaler_y=sy.to_dict() if sy else None)
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    warnings = advisor.check(task, output_activation=act, loss=loss, output_size=n_out, targets=y[split.train])
    findings = [w.to_finding() for w in warnings]
    acts = [cfg.model.activation] if isinstance(cfg.model.activation, str) else cfg.model.activation
    context = DiagnoseContext(activations=list(acts), dropout=cfg.model.dropout, family_name="dense",
                              regularised=any(p.weight_decay for p in cfg.train.phases),
                              optimizer=cfg.train.phases[0].optimizer, lr=cfg.train.phases[0].lr).to_dict()
    train, val, test = part(split.train), part(split.val), part(split.test)
    return Setup(model=model, data=train, loss_terms=Supervised.loss_terms, spec=spec,
                 fit_kwargs=dict(val_data=val if len(split.val) else None, context=context),
                 findings=findings, extras=dict(test=test, raw_test=(x[split.test], y[split.test]),
                             y_train_mean=np.mean(y[split.train], axis=0)))


def template(spec: dict, key=None) -> Supervised:
    dtype = dtypes.jnp_dtype(spec.get("dtype"))
    net = MLP(in_size=spec["in_size"], out_size=spec["out_size"], hidden=spec["hidden"],
              activation=spec["activation"], output_activation=spec["output_activation"],
              dropout=spec["dropout"], init=spec["init"], key=key if key is not None else jax.random.PRNGKey(0),
              dtype=dtype)
    return Supervised(net=net, loss=spec["loss"])


def predict(model: Supervised, spec: dict, x: np.ndarray) -> np.ndarray:
    """Outputs in original units: regression values, or class probabilities for classification."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != spec["in_size"]:
        raise ValueError(f"points have shape {x.shape}; this model takes (n, {spec['in_size']}) "
                         f"with columns {', '.join(spec['features'])}")
    if spec.get("scaler_x"):
        x = scaler_from_dict(spec["scaler_x"]).transform(x)
    out = batched_apply(call_model, x, args=(model,), batch_size=16384, dtype=model.net.layers[0].weight.dtype)
    if spec.get("scaler_y"):
        out = scaler_from_dict(spec["scaler_y"]).inverse_transform(out)
    return out


def evaluate(cfg: Config, setup: Setup, model: Supervised, history, run_dir: Path) -> dict:
    from pinngen.report.plots import plot_confusion, plot_pred_vs_true

    x_raw, y_raw = setup.extras["raw_test"]
    spec = setup.spec
    if len(x_raw) == 0:
        return {"summary": {}}
    pred = predict(model, spec, x_raw)
    figs = Path(run_dir) / "figures"
    task = spec["task"]
    if task == "regression":
        p = pred.reshape(y_raw.shape)
        err = p - y_raw
        ss_res, ss_tot = float(np.sum(err**2)), float(np.sum((y_raw - y_raw.mean(0)) ** 2))
        summary = {"test_mse": float(np.mean(err**2)), "test_rmse": float(np.sqrt(np.mean(err**2))),
                   "test_mae": float(np.mean(np.abs(err))), "test_r2": 1.0 - ss_res / max(ss_tot, 1e-300)}
        # The mean of the training targets is the baseline any model must beat.
        summary["baseline_rmse"] = float(np.sqrt(np.mean((y_raw - setup.extras["y_train_mean"]) ** 2)))
        plot_pred_vs_true(y_raw.reshape(-1), p.reshape(-1), figs / "pred_vs_true.png")
        return {"summary": summary}
    if task in ("binary", "multilabel"):
        labels = (pred >= 0.5).astype(int)
        truth = y_raw.reshape(labels.shape).astype(int)
        summary = {"test_accuracy": float(np.mean(labels == truth))}
        if task == "binary":
            plot_confusion(truth.reshape(-1), labels.reshape(-1), ["0", "1"], figs / "confusion.png")
        return {"summary": summary}
    labels = np.argmax(pred, axis=1)
    truth = y_raw.astype(int) if y_raw.ndim == 1 else np.argmax(y_raw, axis=1)
    p_true = np.clip(pred[np.arange(len(truth)), truth], 1e-12, 1.0)
    classes = [str(c) for c in range(pred.shape[1])]
    per_class = {c: float(np.mean(labels[truth == i] == i)) for i, c in enumerate(classes) if np.any(truth == i)}
    plot_confusion(truth, labels, classes, figs / "confusion.png")
    # Always answering the most common training class is the baseline any classifier must beat.
    y_train = np.asarray(setup.data["y"])
    train_labels = y_train.astype(int) if y_train.ndim == 1 else np.argmax(y_train, axis=1)
    majority = int(np.argmax(np.bincount(train_labels, minlength=pred.shape[1])))
    return {"summary": {"test_accuracy": float(np.mean(labels == truth)),
                        "test_cross_entropy": float(-np.mean(np.log(p_true))),
                        "baseline_accuracy": float(np.mean(truth == majority))},
            "per_class_accuracy": per_class}


def headline(metrics: dict) -> str:
    """Test error (regression) or accuracy (classification) against the trivial baseline."""
    from pinngen.report.lead import finite, number, percent

    s = metrics.get("summary", {})
    if finite(s.get("test_rmse")):
        text = f"Test RMSE {number(s['test_rmse'])}"
        text += f" (R\u00b2 {s['test_r2']:.3f})" if finite(s.get("test_r2")) else ""
        base = s.get("baseline_rmse")
        if not finite(base):
            return text + "."
        gain = 1.0 - s["test_rmse"] / base if base else 0.0
        verdict = (f"{percent(gain)} lower" if gain > 0 else
                   "the network does NOT beat this baseline: train longer or check the diagnosis")
        return f"{text} against {number(base)} for predicting the training mean: {verdict}."
    if finite(s.get("test_accuracy")):
        text = f"Test accuracy {percent(s['test_accuracy'])}"
        text += f" (cross-entropy {number(s['test_cross_entropy'])})" if finite(s.get("test_cross_entropy")) else ""
        base = s.get("baseline_accuracy")
        if not finite(base):
            return text + "."
        verdict = "better" if s["test_accuracy"] > base else "NOT better: the network has not learned the task"
        return f"{text} against {percent(base)} for always answering the most common class: {verdict}."
    return ""


KIND = Kind(name="dense", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            headline=headline, lead_tables=("Per class accuracy",),
            description="dense network on a table (regression or classification)",
            contract_config=dict(data=dict(dataset="diabetes"), model=dict(hidden=[8]),
                                 train=dict(eval_every=10, phases=[dict(optimizer="adam", steps=20,
                                                                        batch_size=32)])))
