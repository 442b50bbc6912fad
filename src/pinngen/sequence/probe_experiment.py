"""The ``gradient-probe`` kind (built-in experiment ``vanishing-gradient``): the vanishing gradient made visible.

An Elman RNN, an LSTM and a GRU of the same width (:func:`pinngen.sequence.probe.probe_models`) meet the adding
problem of length ``data.length``. The probe (:func:`pinngen.sequence.probe.gradient_by_lag`) measures the norm
of d loss / d x_{T-k} for every lag ``k``, at initialisation and after the (brief) training of ``train``
(all three side by side, each on its own loss term; ``steps: 0`` probes the initialisation only). The run
writes the gradient-by-lag figure on a log scale, the numbers per lag to metrics.json, and the ratios
LSTM / RNN and GRU / RNN at ``evaluation.lag`` in words.

``predict(x)``: ``x`` ``(n, T, 2)`` adding-problem sequences -> ``(n, cells)`` each network's predicted sum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ConfigError, RunConfig
from pinngen.core import dtypes
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup

from .probe import adding_problem, gradient_by_lag, probe_models

Cell = Literal["rnn", "lstm", "gru"]
NAMES = {"rnn": "Elman RNN", "lstm": "LSTM", "gru": "GRU"}
COLORS = {"rnn": "#c0392b", "lstm": "#2471a3", "gru": "#229954"}


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task: Literal["adding"] = Field("adding", description="the long-memory task (the adding problem)")
    length: int = Field(100, ge=2, description="sequence length T (the probe reaches lags 0 .. T-1)")
    n_train: int = Field(2048, ge=1, description="training sequences")
    n_probe: int = Field(256, ge=1, description="sequences the probe and the test error average over")


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cells: list[Cell] = Field(default_factory=lambda: ["rnn", "lstm", "gru"], min_length=1)
    hidden: int = Field(32, ge=1, description="hidden units of every network")
    layers: int = Field(1, ge=1)

    @field_validator("cells")
    @classmethod
    def _unique(cls, v):
        if len(set(v)) != len(v):
            raise ValueError(f"list each cell once; got {v}")
        return v


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lag: int = Field(50, ge=0, description="the lag whose gradient ratios the run states in words")
    table_lags: list[int] = Field(default_factory=lambda: [0, 1, 2, 5, 10, 20, 50, 99],
                                  description="lags listed in the table (those below data.length)")


class Config(RunConfig):
    kind: Literal["gradient-probe"] = "gradient-probe"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)


def loss_terms(model, batch, key):
    """``{"mse_rnn", "mse_lstm", "mse_gru"}``: each network's mean squared error on the sums."""
    return model.loss_terms(batch, key)


def template(spec: dict, key=None):
    key = key if key is not None else jax.random.PRNGKey(0)
    return probe_models(tuple(spec["cells"]), in_size=2, hidden_size=int(spec["hidden"]),
                        layers=int(spec["layers"]), key=key, dtype=dtypes.jnp_dtype(spec.get("dtype")))


def setup(cfg: Config) -> Setup:
    if cfg.evaluation.lag >= cfg.data.length:
        raise ConfigError(f"config error: evaluation.lag={cfg.evaluation.lag}: must be below data.length="
                          f"{cfg.data.length} (lags run from 0 to T-1); lower the lag or lengthen the sequences")
    dtype = dtypes.jnp_dtype(cfg.dtype)
    key = jax.random.PRNGKey(cfg.seed)
    k_model, k_train, k_probe = jax.random.split(key, 3)
    spec = {"cells": list(cfg.model.cells), "hidden": cfg.model.hidden, "layers": cfg.model.layers,
            "length": cfg.data.length, "dtype": cfg.dtype}
    model = template(spec, key=k_model)
    x, y = adding_problem(k_train, cfg.data.n_train, cfg.data.length, dtype)
    xp, yp = adding_problem(k_probe, cfg.data.n_probe, cfg.data.length, dtype)
    return Setup(model=model, data={"x": x, "y": y}, loss_terms=loss_terms, spec=spec,
                 fit_kwargs=dict(val_data={"x": xp, "y": yp}), extras=dict(initial=model, probe=(xp, yp)))


def predict(model, spec: dict, x) -> np.ndarray:
    """Each network's predicted sum ``(n, cells)`` for adding-problem inputs ``(n, T, 2)``."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[-1] != 2 or x.shape[0] < 1:
        raise ValueError(f"inputs have shape {x.shape}; give adding-problem sequences (n, T, 2): a value and a "
                         "0/1 marker per step")
    return np.asarray(model.predict(jnp.asarray(x, dtypes.jnp_dtype(spec.get("dtype")))))


def _probe(models, xp, yp) -> dict[str, np.ndarray]:
    return {c: gradient_by_lag(models.models[c], xp, yp) for c in models.names}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("inf")


def _plot(grads: dict, lag: int, path: Path) -> None:
    from pinngen.report.draw import new_figure, save_png

    fig = new_figure(7.5, 4.5)
    ax = fig.add_subplot(1, 1, 1)
    for stage, ls in (("init", "--"), ("trained", "-")):
        for c, g in grads.get(stage, {}).items():
            lags = np.arange(len(g))
            ok = g > 0  # a gradient that underflowed to 0 cannot be drawn on a log axis
            ax.semilogy(lags[ok], g[ok], ls=ls, color=COLORS[c], label=f"{NAMES[c]} ({stage})")
    ax.axvline(lag, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("lag k (steps before the end of the sequence)")
    ax.set_ylabel("mean || d loss / d x_{T-k} ||")
    ax.set_title("Vanishing gradient: how far back the loss reaches (adding problem)")
    ax.legend(fontsize=8)
    save_png(fig, path)


def _sentence(g: dict, lag: int, stage: str) -> str:
    rnn = g.get("rnn")
    if rnn is None:
        return ""
    parts = [f"{_ratio(g[c][lag], rnn[lag]):.3g}x larger for the {NAMES[c]}" for c in ("lstm", "gru") if c in g]
    if not parts:
        return ""
    return (f"{stage.capitalize()}: the gradient of the loss with respect to the input {lag} steps back is "
            f"{rnn[lag]:.3g} for the Elman RNN, " + " and ".join(parts) + ".")


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    xp, yp = setup.extras["probe"]
    lag, T = cfg.evaluation.lag, cfg.data.length
    grads = {"init": _probe(setup.extras["initial"], xp, yp)}
    trained = len(history) > 0 and sum(p.steps for p in cfg.train.phases) > 0
    if trained:
        grads["trained"] = _probe(model, xp, yp)
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    _plot(grads, lag, figs / "gradient_by_lag.png")

    summary: dict = {"task": "adding", "length": T, "lag": lag}
    for stage, g in grads.items():
        for c, v in g.items():
            summary[f"grad_lag{lag}_{c}_{stage}"] = float(v[lag])
        for c in ("lstm", "gru"):
            if c in g and "rnn" in g:
                summary[f"ratio_{c}_rnn_lag{lag}_{stage}"] = _ratio(g[c][lag], g["rnn"][lag])
    mse = np.mean(np.square(np.asarray(predict(model, setup.spec, xp)) - np.asarray(yp)), axis=0)
    for c, m in zip(model.names, mse, strict=True):
        summary[f"probe_mse_{c}"] = float(m)
    summary["probe_mse_predict_mean"] = float(np.var(np.asarray(yp)))
    lags = [k for k in cfg.evaluation.table_lags if 0 <= k < T]
    columns = ["lag k"] + [f"{NAMES[c]} ({s})" for s in grads for c in grads[s]]
    rows = [[k] + [float(grads[s][c][k]) for s in grads for c in grads[s]] for k in lags]
    notes = [s for s in (_sentence(grads[st], lag, st) for st in grads) if s]
    if trained:
        notes.append("Test mean squared error on the probe sequences: " + ", ".join(
            f"{NAMES[c]} {summary[f'probe_mse_{c}']:.4f}" for c in model.names)
            + f" (always predicting the mean: {summary['probe_mse_predict_mean']:.4f}).")
    summary["headline"] = notes[0] if notes else f"Gradient norms by lag for {', '.join(model.names)}."
    return {"summary": summary, "tables": [{"title": "Gradient by lag", "columns": columns, "rows": rows,
                                            "note": "mean over probe sequences of || d l_i / d x_{i,T-k} ||"}],
            "notes": notes, "gradient_by_lag": {s: {c: v.tolist() for c, v in g.items()} for s, g in grads.items()}}


def headline(metrics: dict) -> str:
    return metrics.get("summary", {}).get("headline", "")


KIND = Kind(name="gradient-probe", Config=Config, setup=setup, evaluate=evaluate, template=template,
            predict=predict, headline=headline, lead_tables=("Gradient by lag",),
            description="vanishing gradient: d loss / d x_{T-k} by lag k for RNN, LSTM and GRU on the adding "
                        "problem",
            contract_config=dict(
                data=dict(length=12, n_train=64, n_probe=16), model=dict(hidden=8),
                evaluation=dict(lag=5, table_lags=[0, 5, 11]),
                train=dict(eval_every=10, phases=[dict(optimizer="adam", lr=0.01, steps=20, batch_size=16)])))
