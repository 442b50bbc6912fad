"""Calibrate the sample metrics: what do real images, Gaussians and noise score in the classifier's feature space?

For each N (2,000 and 500) and each seed, every source below is scored with
:func:`pinngen.generative.sample_metrics.evaluate_samples` against N training images (k = 5):

* **real test images** (the reference row that every evaluation prints): N test images;
* **per-class Gaussian, full covariance**: one Gaussian per class fitted to that class's training pixels
  (mean and full 784 x 784 covariance), sampled in the training set's class proportions, clipped to [0, 1];
* **per-class Gaussian, diagonal covariance**: the same with independent pixels;
* **one pixel Gaussian**: one Gaussian (full covariance) fitted to all training pixels, clipped;
* **uniform noise**: independent uniform [0, 1] pixels.

Reported: mean and standard deviation over the seeds of the Fréchet distance, precision, recall, density,
coverage and the least-produced class's share, plus the feature classifier's test accuracy and training time.
The classifier is the cached one (trained on first use; ``--retrain`` trains it again and times it).

    python bench/sample_metrics_calibration.py [--data fashion_mnist] [--n 2000 500] [--seeds 3]
        [--json bench/out/sample_metrics_calibration.json] [--retrain]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from pinngen.generative import sample_metrics as sm
from pinngen.generative.sample_metrics.cache import real_images

COLUMNS = ("frechet_distance", "precision", "recall", "density", "coverage", "min_class_share")
HEAD = ("FD", "precision", "recall", "density", "coverage", "min class share")


def sources(data, n: int, seed: int) -> dict[str, np.ndarray | None]:
    """Sample sets to score (None: the real-vs-real reference, which every evaluation computes)."""
    x, y = data.x_train, data.y_train
    return {
        "real test images (reference)": None,
        "per-class Gaussian, full cov.": sm.per_class_gaussian_samples(x, y, n, seed, covariance="full"),
        "per-class Gaussian, diagonal cov.": sm.per_class_gaussian_samples(x, y, n, seed, covariance="diagonal"),
        "one pixel Gaussian (full cov.)": sm.pixel_gaussian_samples(x, n, seed),
        "uniform noise": sm.uniform_noise_samples(data.image_shape, n, seed),
    }


def calibrate(dataset: str, ns: list[int], seeds: int, clf) -> dict:
    data, name = real_images(dataset)
    table: dict[str, dict[str, dict[str, list[float]]]] = {}
    for n in ns:
        for seed in range(seeds):
            t0 = time.perf_counter()
            reference = None
            for label, x in sources(data, n, 1000 + seed).items():
                if x is None:
                    continue
                res = sm.evaluate_samples(x, dataset=name, n=n, seed=seed, classifier=clf)
                reference = res["reference"]
                row = table.setdefault(str(n), {}).setdefault(label, {c: [] for c in COLUMNS})
                for c in COLUMNS:
                    row[c].append(float(res["samples"][c]))
            ref_row = table[str(n)].setdefault("real test images (reference)", {c: [] for c in COLUMNS})
            for c in COLUMNS:
                ref_row[c].append(float(reference[c]))
            print(f"N={n} seed={seed}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    return table


def markdown(table: dict, seeds: int) -> str:
    lines = []
    for n, rows in table.items():
        lines += [f"\nN = {n}, k = 5, mean ± std over {seeds} seeds:\n",
                  "| samples | " + " | ".join(HEAD) + " |", "|---" * (len(HEAD) + 1) + "|"]
        order = ["real test images (reference)"] + [r for r in rows if r != "real test images (reference)"]
        for label in order:
            cells = []
            for c in COLUMNS:
                v = np.asarray(rows[label][c])
                digits = 1 if c == "frechet_distance" else 3
                cells.append(f"{v.mean():.{digits}f} ± {v.std():.{digits}f}")
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="fashion_mnist")
    p.add_argument("--n", type=int, nargs="+", default=[2000, 500])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--json", default=None, help="also write the raw values here")
    p.add_argument("--retrain", action="store_true", help="train the feature classifier again (and time it)")
    a = p.parse_args(argv)
    load = os.getloadavg()
    t0 = time.perf_counter()
    clf = sm.feature_classifier(a.data, retrain=a.retrain)
    t_clf = time.perf_counter() - t0
    table = calibrate(a.data, a.n, a.seeds, clf)
    info = {"dataset": a.data, "test_accuracy": clf.accuracy, "val_accuracy": clf.val_accuracy,
            "n_test": clf.n_test, "classifier_info": clf.info, "config": clf.config.model_dump(mode="json"),
            "classifier_seconds_this_run": round(t_clf, 1), "load_before": load, "load_after": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M")}
    print(f"feature classifier ({a.data}): test accuracy {clf.accuracy:.2%} on {clf.n_test} images, "
          f"validation {clf.val_accuracy:.2%}; trained in {clf.info.get('train_seconds')} s "
          f"({clf.info.get('steps')} steps); folder {clf.info.get('folder')}")
    print(f"load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    print(markdown(table, a.seeds))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"info": info, "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
