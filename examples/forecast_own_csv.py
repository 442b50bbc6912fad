"""Forecast your own series from a CSV file: train on all but its last points, score them, forecast beyond.

    python examples/forecast_own_csv.py my_series.csv     # a date column first, then one or more value columns
    python examples/forecast_own_csv.py                   # writes demo_series.csv (monthly, seasonal) and uses it
    pinngen run examples/forecast_own_csv.yaml            # the same from YAML (after demo_series.csv exists)

The dates must be regular (daily, monthly, ...) without gaps and the values without blanks: a one-line error
names the first offending row. Writes runs/own-forecast/ (report.html, figures/forecast.png with the intervals,
forecast.csv of the held-out part) and own_forecast.npy: the next `horizon` values after the end of the file.
"""

import sys

import numpy as np

import pinngen
from pinngen.sequence.data import load_series


def demo_series(path: str = "demo_series.csv", months: int = 360) -> str:
    """A stand-in for your data: 30 years of a monthly series with a yearly cycle, a half-yearly one and noise."""
    rng = np.random.default_rng(0)
    t = np.arange(months)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + 4 * np.sin(2 * np.pi * t / 6) + rng.normal(0, 2, months)
    dates = np.arange(np.datetime64("1990-01"), np.datetime64("1990-01") + months)
    with open(path, "w") as f:
        f.write("month,sales\n" + "".join(f"{d},{v:.3f}\n" for d, v in zip(dates, y, strict=True)))
    return path


def main(path: str | None = None, steps: int = 1500) -> None:
    path = path or demo_series()
    config = {
        "kind": "forecast",
        "name": "own-forecast",
        "data": {"source": path, "test": 24, "lookback": 48, "horizon": 24, "val": 24},  # value_columns: [...]
        "model": {"arch": "lstm", "strategy": "direct", "patch": 12, "hidden": 32,  # or gru, transformer
                  "members": 4, "linear": 12, "noise": 0.1},  # 4 nets averaged, an AR(12) one-step term
        "evaluation": {"season": 12, "ar_order": 12},  # baselines: seasonal naive (period) and AR(p)
        "train": {"eval_every": 100,
                  "phases": [{"optimizer": "adam", "lr": 3e-3, "steps": steps, "batch_size": 64,
                              "schedule": "cosine"}]},
    }
    run = pinngen.run(config, out="runs/own-forecast")
    print(run.metrics["summary"]["headline"])
    for finding in run.findings:  # converged? overfitting?
        print(finding)
    series = load_series(path).values  # (time, features), original units
    ahead = run.predict(series)  # the last `lookback` values -> (1, horizon, features)
    np.save("own_forecast.npy", ahead)
    print(f"next {ahead.shape[1]} values -> own_forecast.npy; report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
