"""The ``forecast`` kind (built-in experiments ``sunspots-lstm``, ``sunspots-transformer``): a lookback window
of a series -> its next ``horizon`` values, scored on a held-out tail against baselines computed in the run.

Data: ``data.source`` is ``sunspots`` (vendored, monthly 1749-2013) or your CSV / ``.npy`` series
(:func:`pinngen.sequence.data.load_series`: a date column and value columns; NaNs and gaps in the dates are
one-line errors). The last ``data.test`` points are held out. The scaler is fitted on the training part only;
forecasts are unscaled back to the original units. The last ``data.val`` windows of the training part (their
targets unseen in training) give the validation loss and the residual quantiles of the prediction intervals.

Model (:mod:`.forecast_model`): ``model.arch`` ``lstm``/``gru``/``rnn``/``transformer`` over patches of
``model.patch`` steps; ``model.strategy`` ``direct`` (one multi-output head for the whole horizon) or
``autoregressive`` (a one-step head, fed back ``horizon`` times); ``model.members`` nets averaged.

``predict(model, spec, x)``: ``x`` a series ``(L,)`` or ``(L, d)``, or a batch ``(n, L, d)`` (a univariate
batch also as ``(n, L)``), ``L >= lookback`` in original units (the last ``lookback`` values are read) ->
forecasts ``(n, horizon, d)`` in original units. Evaluation and figures: :mod:`.forecast_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pinngen.config import ConfigError, RunConfig
from pinngen.core import dtypes
from pinngen.core.diagnose import DiagnoseContext
from pinngen.core.kind import Kind
from pinngen.core.setup import Setup
from pinngen.data import DataError
from pinngen.data.scaling import scaler_from_dict

from .data import Series, fit_scaler, load_series, make_windows, sunspots
from .forecast_model import Ensemble, rollout

SOURCES = {"sunspots": sunspots}


class DataCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field("sunspots", description="'sunspots' (vendored) or the path of your .csv / .npy series")
    date_column: str | int | None = Field(0, description="CSV: the date column (name or index; null: none)")
    value_columns: list[str | int] | None = Field(None, description="CSV: the columns forecast (default: all "
                                                  "but the dates)")
    test: int = Field(132, ge=1, description="points held out at the end and forecast from the training part")
    lookback: int = Field(264, ge=1, description="steps the model reads before forecasting")
    horizon: int = Field(132, description="steps forecast at once (held-out points beyond it: fed back)")
    val: int = Field(48, ge=0, description="validation windows at the end of the training part (their targets "
                     "are not trained on): validation loss and interval widths; 0: none, no intervals")
    stride: int = Field(1, ge=1, description="steps between the starts of training windows")
    scaler: Literal["standard", "minmax"] = "standard"

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v):
        if v < 1:
            raise ValueError(f"horizon={v}: forecast at least one step ahead; set data.horizon >= 1")
        return v


class ModelCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    arch: Literal["lstm", "gru", "rnn", "transformer"] = "lstm"
    strategy: Literal["direct", "autoregressive"] = Field(
        "direct", description="direct: one head emits the whole horizon; autoregressive: one step, fed back")
    patch: int = Field(12, ge=1, description="time steps per token (data.lookback must be a multiple)")
    hidden: int = Field(64, ge=1, description="recurrent units, or the Transformer's width")
    layers: int = Field(1, ge=1, description="recurrent layers or Transformer blocks")
    heads: int = Field(4, ge=1, description="transformer: attention heads (hidden must be a multiple)")
    ff: int | None = Field(None, ge=1, description="transformer: feed-forward width (default 4 * hidden)")
    positions: Literal["sinusoidal", "learned", "rotary"] = "sinusoidal"
    members: int = Field(1, ge=1, description="nets trained side by side from different initialisations; "
                         "the forecast is their mean")
    loss: Literal["mse", "mae"] = Field("mse", description="training loss on the scaled targets")
    linear: int = Field(0, ge=0, description="lags of a linear (AR) component added to the first forecast step "
                        "(the one-step head; LSTNet's highway), started at the least-squares fit, trained with "
                        "the net; 0: none")
    first_step_weight: float = Field(0.0, ge=0.0, description="extra loss weight of the first forecast step "
                                     "(what the one-step-ahead forecast uses); 0: all steps weigh the same")
    noise: float = Field(0.0, ge=0.0, description="std of Gaussian noise added to the net's scaled inputs in "
                         "training (a regulariser; the linear component reads clean inputs); 0: none")


class EvaluationCfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: int = Field(1, ge=1, description="period of the seasonal-naive baseline (1: the naive forecast)")
    ar_order: int = Field(24, ge=1, description="order p of the AR(p) baseline (least squares)")
    mase_m: int = Field(1, ge=1, description="MASE scale: in-sample mean |y[t] - y[t-m]| of the training part")
    levels: list[float] = Field(default_factory=lambda: [0.8, 0.95], description="prediction-interval levels")
    context: int | None = Field(None, ge=0, description="training points drawn before the forecast "
                                "(default: 2 * test)")

    @field_validator("levels")
    @classmethod
    def _levels(cls, v):
        if any(not 0.0 < p < 1.0 for p in v):
            raise ValueError(f"levels={v}: each must be a coverage strictly between 0 and 1, e.g. 0.8")
        return sorted(v)


class Config(RunConfig):
    kind: Literal["forecast"] = "forecast"
    data: DataCfg = Field(default_factory=DataCfg)
    model: ModelCfg = Field(default_factory=ModelCfg)
    evaluation: EvaluationCfg = Field(default_factory=EvaluationCfg)


@dataclass(frozen=True)
class ForecastData:
    """The series split in original units, and the scaled windows the net trains and validates on."""

    series: Series
    train: np.ndarray  # (N, d) original units
    test: np.ndarray  # (test, d)
    x_fit: np.ndarray  # (windows, lookback, d) scaled
    y_fit: np.ndarray  # (windows, steps, d) scaled
    x_val: np.ndarray  # (val, lookback, d) scaled
    y_val: np.ndarray  # (val, horizon, d) scaled


def _fail(field: str, msg: str) -> ConfigError:
    return ConfigError(f"config error: {field}: {msg}")


def load(cfg: Config) -> Series:
    d = cfg.data
    if d.source in SOURCES:
        return SOURCES[d.source]()
    try:
        return load_series(d.source, date_column=d.date_column, value_columns=d.value_columns)
    except DataError as err:
        raise _fail("data.source", str(err)) from None


def prepare(cfg: Config) -> tuple[ForecastData, object]:
    """Split, scale (on the training part only) and window the series; ``(data, scaler)``."""
    d, m = cfg.data, cfg.model
    series = load(cfg)
    n = len(series)
    if d.test >= n:
        raise _fail("data.test", f"{d.test} held-out points leave nothing to train on in a {n}-point series; "
                    "lower data.test")
    train, test = series.values[:n - d.test], series.values[n - d.test:]
    steps = d.horizon if m.strategy == "direct" else 1
    # validation windows take the last val windows with a full horizon; no training target may fall among theirs
    cut = len(train) - (d.val + d.horizon - 1 if d.val else 0)
    need = d.lookback + steps + (d.val + d.horizon - 1 if d.val else 0)
    if need > len(train):
        raise _fail("data.lookback", f"lookback {d.lookback} + {steps} target step(s) + {d.val} validation "
                    f"windows of horizon {d.horizon} need {need} training points but the training part has "
                    f"{len(train)}; shorten data.lookback or data.horizon, lower data.val or data.test")
    if d.lookback % m.patch:
        raise _fail("model.patch", f"data.lookback={d.lookback} is not a multiple of patch={m.patch}; pick a "
                    f"patch that divides it (e.g. 1) or change the lookback")
    if m.arch == "transformer" and m.hidden % m.heads:
        raise _fail("model.heads", f"hidden={m.hidden} is not a multiple of heads={m.heads}; change either")
    scaler = fit_scaler(train, d.scaler)
    z = np.asarray(scaler.transform(train), np.float64)
    x_fit, y_fit = make_windows(z[:cut], d.lookback, steps, stride=d.stride)
    x_val, y_val = (make_windows(z, d.lookback, d.horizon)[i][-d.val:] for i in (0, 1)) if d.val else (
        np.zeros((0, d.lookback, z.shape[1])), np.zeros((0, d.horizon, z.shape[1])))
    return ForecastData(series, train, test, x_fit, y_fit, x_val, y_val), scaler


def template(spec: dict, key=None):
    """The ensemble's structure from its spec (weights come from the checkpoint)."""
    key = key if key is not None else jax.random.PRNGKey(0)
    return Ensemble(members=spec["members"], arch=spec["arch"], features=spec["features"],
                    lookback=spec["lookback"], steps=spec["steps"], patch=spec["patch"], hidden=spec["hidden"],
                    layers=spec["layers"], heads=spec["heads"], ff=spec["ff"], positions=spec["positions"],
                    linear=spec.get("linear", 0), key=key, dtype=dtypes.jnp_dtype(spec.get("dtype")))


def init_linear(model: Ensemble, x: np.ndarray, y: np.ndarray, lags: int) -> Ensemble:
    """Start every member's linear component at the least-squares fit of the training windows' next values on
    their last ``lags`` values (scaled units; an AR(lags) fit): training then learns what it misses."""
    n = len(x)
    design = np.column_stack([x[:, -lags:].reshape(n, -1), np.ones(n)])  # (windows, lags * d + 1)
    sol = np.linalg.lstsq(design, y[:, 0], rcond=None)[0]  # (lags * d + 1, d)
    skip = model.nets.skip
    w = jnp.broadcast_to(jnp.asarray(sol[:-1].T, skip.weight.dtype), skip.weight.shape)
    b = jnp.broadcast_to(jnp.asarray(sol[-1], skip.bias.dtype), skip.bias.shape)
    return eqx.tree_at(lambda mm: (mm.nets.skip.weight, mm.nets.skip.bias), model, (w, b))


def _loss_fn(kind: str, noise: float = 0.0, first: float = 0.0):
    def loss_terms(model, batch, key):
        """``{"mse"}`` or ``{"mae"}`` of every member on the scaled targets (steps weighted 1, the first
        ``1 + first``, normalised), summed over members; training batches (``key`` given) get input noise."""
        x, xb = batch["x"], None
        if noise > 0 and key is not None:  # the net reads noisy inputs, the linear component the clean ones
            xb = x + noise * jax.random.normal(key, x.shape, x.dtype)
        err = model.each(x, xb) - batch["y"][None]  # (members, batch, steps, features)
        per_step = jnp.mean(jnp.square(err) if kind == "mse" else jnp.abs(err), axis=(1, 3))  # (members, steps)
        per = (jnp.sum(per_step, axis=1) + first * per_step[:, 0]) / (per_step.shape[1] + first)
        return {kind: jnp.sum(per)}

    return loss_terms


def setup(cfg: Config) -> Setup:
    data, scaler = prepare(cfg)
    d, m = cfg.data, cfg.model
    spec = {"arch": m.arch, "strategy": m.strategy, "features": int(data.train.shape[1]),
            "names": list(data.series.names), "lookback": d.lookback, "horizon": d.horizon,
            "steps": int(data.y_fit.shape[1]), "patch": m.patch, "hidden": m.hidden, "layers": m.layers,
            "heads": m.heads, "ff": m.ff, "positions": m.positions, "members": m.members, "linear": m.linear,
            "dtype": cfg.dtype,
            "scaler": scaler.to_dict()}
    model = template(spec, key=jax.random.PRNGKey(cfg.seed))
    if m.linear:
        model = init_linear(model, data.x_fit, data.y_fit, m.linear)
    dtype = dtypes.jnp_dtype(cfg.dtype)
    ph = cfg.train.phases[0]
    fit_kwargs: dict = dict(context=DiagnoseContext(optimizer=ph.optimizer, lr=ph.lr).to_dict())
    if len(data.x_val):
        fit_kwargs["val_data"] = {"x": jnp.asarray(data.x_val, dtype),
                                  "y": jnp.asarray(data.y_val[:, :spec["steps"]], dtype)}
    return Setup(model=model, data={"x": jnp.asarray(data.x_fit, dtype), "y": jnp.asarray(data.y_fit, dtype)},
                 loss_terms=_loss_fn(m.loss, m.noise, m.first_step_weight), spec=spec, fit_kwargs=fit_kwargs,
                 extras=dict(data=data))


# ------------------------------------------------------------------------------------------- inference


@eqx.filter_jit
def _rollout(model, x, horizon):
    return rollout(model, x, horizon)


def forecast_scaled(model, x, horizon: int, *, batch_size: int = 512) -> np.ndarray:
    """``horizon``-step forecasts ``(n, horizon, d)`` of scaled windows ``x`` ``(n, lookback, d)``."""
    x = jnp.asarray(x, jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))[0].dtype)
    parts = [np.asarray(_rollout(model, x[i:i + batch_size], int(horizon))) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts).astype(np.float64)


def as_windows(x, spec: dict) -> np.ndarray:
    """Series in original units -> the last ``lookback`` values of each, ``(n, lookback, d)`` (ValueError naming
    the fix for wrong dimensions or too-short series)."""
    x = np.asarray(x, np.float64)
    d, lookback = spec["features"], spec["lookback"]
    want = f"a series (L,) or (L, {d}), or a batch (n, L, {d}), with L >= lookback = {lookback}"
    if x.ndim == 1 and d == 1:
        x = x[None, :, None]
    elif x.ndim == 2 and x.shape[1] == d:
        x = x[None]
    elif x.ndim == 2 and d == 1:
        x = x[:, :, None]  # rows are univariate series
    if x.ndim != 3 or x.shape[2] != d or x.shape[0] < 1:
        raise ValueError(f"inputs have shape {x.shape}; give {want}")
    if x.shape[1] < lookback:
        raise ValueError(f"series of {x.shape[1]} points are too short: this model reads the last {lookback}; "
                         f"give at least {lookback} values per series")
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs contain NaN or inf; fill the gaps (e.g. interpolate) before forecasting")
    return x[:, -lookback:]


def predict(model, spec: dict, x) -> np.ndarray:
    """Forecasts ``(n, horizon, d)`` in original units of the last ``lookback`` values of each series in ``x``."""
    scaler = scaler_from_dict(spec["scaler"])
    z = np.asarray(scaler.transform(as_windows(x, spec)), np.float64)
    return np.asarray(scaler.inverse_transform(forecast_scaled(model, z, spec["horizon"])), np.float64)


def headline(metrics: dict) -> str:
    return metrics.get("summary", {}).get("headline", "")


def evaluate(cfg: Config, setup: Setup, model, history, run_dir) -> dict:
    from .forecast_report import evaluate as ev

    return ev(cfg, setup, model, history, run_dir)


KIND = Kind(name="forecast", Config=Config, setup=setup, evaluate=evaluate, template=template, predict=predict,
            headline=headline, lead_tables=("Held-out forecast",),
            description="forecasting: a lookback window -> the next horizon values (LSTM, GRU, RNN, Transformer; "
                        "direct or autoregressive) against seasonal-naive and AR(p), with intervals",
            contract_config=dict(
                data=dict(test=12, lookback=24, horizon=6, val=4, stride=8),
                model=dict(arch="gru", patch=6, hidden=8),
                evaluation=dict(ar_order=4, season=12),
                train=dict(eval_every=5, chunk=5, phases=[dict(optimizer="adam", lr=0.01, steps=10, batch_size=16)])))
