"""Evaluation of a ``forecast`` run: the held-out forecast against seasonal-naive and AR(p) computed in the same
run, one-step-ahead errors, prediction intervals and their coverage, figures and the headline.

- Held-out forecast: from the last ``lookback`` training values, ``test`` steps ahead (fed back past the
  horizon); MASE (scaled by the in-sample mean |y[t] - y[t-m]| of the training part, ``evaluation.mase_m``),
  sMAPE and RMSE, in original units, over every held-out point and feature.
- One-step-ahead RMSE: each held-out point forecast from the true ``lookback`` values before it (the model's
  first forecast step); AR(p) does the same with its ``p`` true lags.
- Intervals: the forecast plus or minus the ``level`` quantile of the absolute residuals of the validation
  windows at the same step ahead (split-conformal style; past the horizon the last step's width is kept);
  coverage is the fraction of held-out points inside.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pinngen.core.io import atomic_write_text

from .baselines import fit_ar, seasonal_naive
from .data import make_windows
from .forecast_experiment import forecast_scaled
from .metrics import mase, rmse, smape

NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Elman RNN", "transformer": "Transformer"}


def _scores(truth, pred, train, m: int) -> dict:
    return {"mase": mase(truth, pred, train, m=m), "smape": smape(truth, pred), "rmse": rmse(truth, pred)}


def _widths(model, data, scaler, horizon: int, levels: list[float], steps: int) -> dict[float, np.ndarray]:
    """``level -> (steps, d)`` interval half-widths from the validation residuals (original units)."""
    if not len(data.x_val):
        return {}
    pred = scaler.inverse_transform(forecast_scaled(model, data.x_val, horizon))
    res = np.abs(np.asarray(scaler.inverse_transform(data.y_val), np.float64) - pred)  # (val, horizon, d)
    out = {}
    for p in levels:
        w = np.quantile(res, p, axis=0)  # (horizon, d)
        out[p] = w[np.minimum(np.arange(steps), horizon - 1)]
    return out


def _baselines(cfg, train: np.ndarray, test: np.ndarray, full: np.ndarray) -> tuple[dict, dict, list[str]]:
    """Forecasts and one-step predictions of seasonal-naive and AR(p), and notes on what was skipped."""
    e, n, notes = cfg.evaluation, len(test), []
    fc, one = {}, {}
    if e.season <= len(train):
        fc["seasonal_naive"] = seasonal_naive(train, n, e.season)
    else:
        notes.append(f"Seasonal naive skipped: period {e.season} exceeds the {len(train)} training points.")
    if len(train) > 2 * e.ar_order:
        models = [fit_ar(train[:, j], e.ar_order) for j in range(train.shape[1])]
        fc["ar"] = np.stack([a.forecast(train[:, j], n) for j, a in enumerate(models)], axis=1)
        one["ar"] = np.stack([a.one_step(full[:, j], len(train)) for j, a in enumerate(models)], axis=1)
    else:
        notes.append(f"AR({e.ar_order}) skipped: it needs more than {2 * e.ar_order} training points.")
    return fc, one, notes


def _as_datetimes(dates):
    return None if dates is None else np.asarray(dates).astype("datetime64[s]")


def _plot(path: Path, cfg, data, fc: np.ndarray, widths: dict, base: dict, names, title: str) -> None:
    from pinngen.report.draw import new_figure, save_png

    n, d = data.test.shape
    ctx = min(len(data.train), cfg.evaluation.context if cfg.evaluation.context is not None else 2 * n)
    dates = _as_datetimes(data.series.dates)
    t = dates if dates is not None else np.arange(len(data.series))
    t_ctx, t_test = t[len(data.train) - ctx:len(data.train)], t[len(data.train):]
    shown = min(d, 4)
    fig = new_figure(9.0, 3.2 * shown)
    for j in range(shown):
        ax = fig.add_subplot(shown, 1, j + 1)
        ax.plot(t_ctx, data.train[-ctx:, j], color="0.35", lw=1.0, label="training part")
        ax.plot(t_test, data.test[:, j], color="k", lw=1.2, label="held out (truth)")
        for p, alpha in zip(sorted(widths, reverse=True), (0.15, 0.3, 0.45), strict=False):
            ax.fill_between(t_test, fc[:, j] - widths[p][:, j], fc[:, j] + widths[p][:, j], color="#2471a3",
                            alpha=alpha, lw=0, label=f"{p:.0%} interval")
        ax.plot(t_test, fc[:, j], color="#2471a3", lw=1.8, label="forecast")
        styles = {"seasonal_naive": ("#c0392b", f"seasonal naive ({cfg.evaluation.season})"),
                  "ar": ("#229954", f"AR({cfg.evaluation.ar_order})")}
        for k, (color, label) in styles.items():
            if k in base:
                ax.plot(t_test, base[k][:, j], color=color, lw=1.0, ls="--", label=label)
        ax.set_ylabel(names[j])
        if j == 0:
            ax.set_title(title)
            ax.legend(fontsize=7, ncol=3)
    save_png(fig, path)


def _plot_one_step(path: Path, data, one: np.ndarray, ar_one: np.ndarray | None, names) -> None:
    from pinngen.report.draw import new_figure, save_png

    dates = _as_datetimes(data.series.dates)
    t = (dates if dates is not None else np.arange(len(data.series)))[len(data.train):]
    fig = new_figure(9.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(t, data.test[:, 0], color="k", lw=1.2, label="truth")
    ax.plot(t, one[:, 0], color="#2471a3", lw=1.2, label="model, one step ahead")
    if ar_one is not None:
        ax.plot(t, ar_one[:, 0], color="#229954", lw=1.0, ls="--", label="AR, one step ahead")
    ax.set_ylabel(names[0])
    ax.set_title("One-step-ahead forecasts over the held-out part (true history as input)")
    ax.legend(fontsize=8)
    save_png(fig, path)


def _write_csv(path: Path, data, fc, widths) -> None:
    dates = data.series.dates
    n, d = data.test.shape
    cols = ["date" if dates is not None else "step"]
    for name in data.series.names:
        cols += [f"{name}", f"{name}_forecast"] + [f"{name}_{s}{p:.0%}".replace("%", "") for p in widths
                                                   for s in ("lo", "hi")]
    lines = [",".join(cols)]
    for i in range(n):
        row = [str(dates[len(data.train) + i]) if dates is not None else str(len(data.train) + i)]
        for j in range(d):
            row += [f"{data.test[i, j]:.6g}", f"{fc[i, j]:.6g}"]
            row += [f"{fc[i, j] + s * widths[p][i, j]:.6g}" for p in widths for s in (-1, 1)]
        lines.append(",".join(row))
    atomic_write_text(path, "\n".join(lines) + "\n")


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    from pinngen.data.scaling import scaler_from_dict

    data, spec = setup.extras["data"], setup.spec
    e, lookback, horizon = cfg.evaluation, spec["lookback"], spec["horizon"]
    scaler = scaler_from_dict(spec["scaler"])
    train, test = data.train, data.test
    full = np.concatenate([train, test])
    n = len(test)

    z_last = np.asarray(scaler.transform(train[-lookback:]), np.float64)[None]
    fc = scaler.inverse_transform(forecast_scaled(model, z_last, n))[0]  # (test, d)
    x_one, _ = make_windows(full[len(train) - lookback:], lookback, 1)  # each window ends before a test point
    one = scaler.inverse_transform(forecast_scaled(model, scaler.transform(x_one[:n]), 1))[:, 0]  # (test, d)
    widths = _widths(model, data, scaler, horizon, e.levels, n)
    base, base_one, notes = _baselines(cfg, train, test, full)

    s = {**_scores(test, fc, train, e.mase_m), "one_step_rmse": rmse(test, one)}
    for p, w in widths.items():
        s[f"coverage_{round(100 * p)}"] = float(np.mean(np.abs(test - fc) <= w))
    for k, f in base.items():
        s.update({f"{k}_{m}": v for m, v in _scores(test, f, train, e.mase_m).items()})
    if "ar" in base_one:
        s["ar_one_step_rmse"] = rmse(test, base_one["ar"])
    s.update(test_points=n, lookback=lookback, horizon=horizon, features=int(train.shape[1]),
             train_windows=int(len(data.x_fit)), val_windows=int(len(data.x_val)), members=spec["members"],
             season=e.season, ar_order=e.ar_order)

    model_name = f"{NAMES[spec['arch']]} ({spec['strategy']}" + (
        f", mean of {spec['members']})" if spec["members"] > 1 else ")")
    ar_name, sn_name = f"AR({e.ar_order})", f"seasonal naive ({e.season})"
    rows = [[model_name, s["mase"], s["smape"], s["rmse"], s["one_step_rmse"]]]
    if "seasonal_naive" in base:
        rows.append([sn_name, s["seasonal_naive_mase"], s["seasonal_naive_smape"], s["seasonal_naive_rmse"], None])
    if "ar" in base:
        rows.append([ar_name, s["ar_mase"], s["ar_smape"], s["ar_rmse"], s["ar_one_step_rmse"]])
    table = {"title": f"Held-out forecast: the last {n} points", "columns": ["method", "MASE", "sMAPE %",
                                                                             "RMSE", "one-step RMSE"],
             "rows": rows, "note": f"MASE scaled by the training part's mean |y[t] - y[t-{e.mase_m}]|; one step "
                                   "ahead: each held-out point from the true values before it"}
    s["headline"] = _headline(s, model_name, sn_name, ar_name, n)
    notes = [s["headline"]] + notes
    if widths:
        notes.append("Prediction intervals: the forecast plus or minus the quantile of the absolute residuals "
                     f"of the {len(data.x_val)} validation windows at the same step ahead; held-out coverage "
                     + ", ".join(f"{s[f'coverage_{round(100 * p)}']:.0%} at {p:.0%}" for p in widths) + ".")

    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    title = f"{model_name}: {n}-step forecast from the training part over the held-out truth"
    _plot(figs / "forecast.png", cfg, data, fc, widths, base, data.series.names, title)
    _plot_one_step(figs / "one_step.png", data, one, base_one.get("ar"), data.series.names)
    _write_csv(Path(run_dir) / "forecast.csv", data, fc, widths)
    return {"summary": s, "tables": [table], "notes": notes}


def _headline(s: dict, model: str, sn: str, ar: str, n: int) -> str:
    parts = [f"On the last {n} held-out points the {model} forecast scores MASE {s['mase']:.3f}"]
    refs = [f"{name} {s[k]:.3f}" for name, k in ((sn, "seasonal_naive_mase"), (ar, "ar_mase")) if k in s]
    if refs:
        parts.append(" (" + ", ".join(refs) + ")")
    parts.append(f"; one step ahead its RMSE is {s['one_step_rmse']:.4g}")
    if "ar_one_step_rmse" in s:
        parts.append(f" ({ar} {s['ar_one_step_rmse']:.4g})")
    return "".join(parts) + "."
