"""Classify your own labelled series (any lengths), then get class probabilities for new ones.

    python examples/classify_own_series.py my_series.csv     # one series per row: label, value, value, ...
    python examples/classify_own_series.py my_series.npz     # arrays x (n, time[, features]), y (n,) [, lengths]
    python examples/classify_own_series.py                   # writes demo_series.csv (three wave shapes) and uses it

Rows may differ in length (leave the tail empty). 30 % of the series (stratified, seeded) are held out for the
test. Writes runs/own-classify/ (report.html with the confusion matrix and the accuracy beside the 1-NN
baselines when all series have one length) and own_probs.npy (class probabilities of every series in the file).
"""

import json
import sys

import numpy as np

import pinngen
from pinngen.sequence.labelled import load_labelled_series


def demo_series(path: str = "demo_series.csv", n: int = 300) -> str:
    """A stand-in for your data: sine, square and sawtooth waves of 40..80 steps, random phase, noisy."""
    rng = np.random.default_rng(0)
    shapes = {"sine": np.sin, "square": lambda t: np.sign(np.sin(t)), "saw": lambda t: (t / np.pi) % 2 - 1}
    with open(path, "w") as f:
        for i in range(n):
            label = list(shapes)[i % 3]
            t = rng.uniform(0, 2 * np.pi) + np.arange(rng.integers(40, 81)) * rng.uniform(0.2, 0.4)
            x = shapes[label](t) + rng.normal(0, 0.2, len(t))
            f.write(label + "," + ",".join(f"{v:.4f}" for v in x) + "\n")
    return path


def main(path: str | None = None, steps: int = 1500) -> None:
    path = path or demo_series()
    config = {
        "kind": "sequence-classify",
        "name": "own-classify",
        "data": {"source": "file", "path": path, "test_fraction": 0.3},  # or "test_path": "my_test.csv"
        "model": {"arch": "lstm", "hidden": 32, "patch": 2},  # or arch: transformer (dim, heads, layers, pooling)
        "augment": {"scale": 0.1, "jitter": 0.05},
        "train": {"eval_every": 250,
                  "phases": [{"optimizer": "adam", "lr": 3e-3, "steps": steps, "batch_size": 32, "clip_norm": 1.0,
                              "schedule": "cosine"}]},
    }
    run = pinngen.run(config, out="runs/own-classify")
    print(run.metrics["summary"]["headline"])
    for finding in run.findings:  # converged? overfitting?
        print(finding)
    series = load_labelled_series(path)
    x = np.where(np.arange(series.x.shape[1])[None, :, None] < series.lengths[:, None, None], series.x, np.nan)
    probs = run.predict(x if series.features > 1 else x[..., 0])  # NaN tails mark the shorter series
    np.save("own_probs.npy", probs)
    classes = json.loads((run.path / "model" / "spec.json").read_text())["classes"]  # the probability columns
    print(f"class probabilities {probs.shape} (columns {', '.join(classes)}) -> own_probs.npy; "
          f"report: {run.path / 'report.html'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
