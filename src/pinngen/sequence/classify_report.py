"""Evaluation and figures of a ``sequence-classify`` run.

On the test series: ``accuracy`` and the cross-entropy of the network, and in the same run the baselines
every time-series classifier is measured against (Dau et al. 2019): 1-NN with the Euclidean distance and
1-NN with dynamic time warping (:func:`pinngen.sequence.baselines.nearest_neighbor`) on the same normalised
series, and always answering the most common training class. Then per-class accuracy, the confusion matrix
(figure and table), the test series drawn by class with the misclassified ones marked, and for Transformers
the attention maps of one test series per layer and head.

The 1-NN baselines need equal-length series; DTW also one feature and a bounded cost
(``evaluation.dtw_max_cells``): otherwise the notes say why a baseline was skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .baselines import nearest_neighbor
from .metrics import accuracy, confusion_matrix

ARCH_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "Elman RNN", "transformer": "Transformer"}


def model_name(spec: dict) -> str:
    m = spec["model"]
    name = ARCH_NAMES[m["arch"]]
    if m["arch"] != "transformer" and m.get("bidirectional"):
        name = "bidirectional " + name
    return name


def _baselines(cfg, xtr, ltr, ytr, xte, lte, yte, summary: dict, notes: list) -> list:
    """Rows of the accuracy table for the 1-NN baselines (and their summary values)."""
    ev = cfg.evaluation
    rows = []
    equal = len(set(ltr.tolist()) | set(lte.tolist())) == 1
    if not equal:
        notes.append("1-NN baselines skipped: the series differ in length (the Euclidean distance needs equal "
                     "lengths).")
        return rows
    a, b = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
    pred = nearest_neighbor(a, ytr, b, metric="euclidean")
    summary["accuracy_1nn_euclidean"] = accuracy(yte, pred)
    rows.append(["1-NN Euclidean (baseline)", summary["accuracy_1nn_euclidean"], int(np.sum(pred == yte))])
    cells = float(len(xtr)) * len(xte) * xtr.shape[1] ** 2
    if xtr.shape[2] != 1:
        notes.append("1-NN DTW skipped: DTW here compares univariate series and these have "
                     f"{xtr.shape[2]} features.")
    elif cells > ev.dtw_max_cells:
        notes.append(f"1-NN DTW skipped: {cells:.3g} cost-matrix cells exceed evaluation.dtw_max_cells="
                     f"{ev.dtw_max_cells:.3g} (raise it, or set evaluation.dtw_window).")
    else:
        pred = nearest_neighbor(xtr[..., 0], ytr, xte[..., 0], metric="dtw", window=ev.dtw_window)
        summary["accuracy_1nn_dtw"] = accuracy(yte, pred)
        w = "full window" if ev.dtw_window is None else f"window {ev.dtw_window}"
        rows.append([f"1-NN DTW, {w} (baseline)", summary["accuracy_1nn_dtw"], int(np.sum(pred == yte))])
    return rows


def evaluate(cfg, setup, model, history, run_dir) -> dict:
    from pinngen.report.plots import plot_confusion

    from .classify_experiment import model_probs, normalize

    spec, ev = setup.spec, cfg.evaluation
    train, test = setup.extras["train"], setup.extras["test"]
    ytr, yte = setup.extras["y_train"], setup.extras["y_test"]
    classes = spec["classes"]
    xtr = normalize(train.x, train.lengths, spec["normalize"])
    xte = normalize(test.x, test.lengths, spec["normalize"])
    p_test = model_probs(model, xte, test.lengths, batch_size=ev.batch_size)
    p_train = model_probs(model, xtr, train.lengths, batch_size=ev.batch_size)
    pred = np.argmax(p_test, axis=1)
    name = model_name(spec)
    summary: dict = {"source": train.source.split(" (")[0], "arch": spec["model"]["arch"], "classes": len(classes),
                     "n_train": len(train), "n_test": len(test), "accuracy": accuracy(yte, pred),
                     "train_accuracy": accuracy(ytr, np.argmax(p_train, axis=1)),
                     "test_cross_entropy": float(-np.mean(np.log(np.clip(p_test[np.arange(len(yte)), yte], 1e-12,
                                                                                 1.0))))}
    notes: list[str] = []
    rows = [[name, summary["accuracy"], int(np.sum(pred == yte))]]
    if ev.baselines:
        rows += _baselines(cfg, xtr, train.lengths, ytr, xte, test.lengths, yte, summary, notes)
    majority = int(np.argmax(np.bincount(ytr, minlength=len(classes))))
    summary["accuracy_majority"] = accuracy(yte, np.full_like(yte, majority))
    rows.append([f"always class {classes[majority]} (most common in training)", summary["accuracy_majority"],
                 int(np.sum(yte == majority))])
    counts, _ = confusion_matrix(yte, pred, labels=np.arange(len(classes)))
    per_class = {c: float(counts[i, i] / counts[i].sum()) for i, c in enumerate(classes) if counts[i].sum()}
    figs = Path(run_dir) / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    plot_confusion(yte, pred, classes, figs / "confusion.png",
                   title=f"{name}: confusion on the test series (accuracy {summary['accuracy']:.2%})")
    plot_series_by_class(test.x, test.lengths, yte, pred, classes, figs / "test_series.png")
    if spec["model"]["arch"] == "transformer" and ev.attention_maps:
        maps = model_probs(model, xte[:1], test.lengths[:1], attention=True)[0]
        plot_attention(maps, spec, int(test.lengths[0]), classes[int(yte[0])], figs / "attention.png")
    summary["headline"] = _sentence(summary, name, len(test))
    tables = [{"title": "Test accuracy", "columns": ["classifier", "test accuracy", "correct"], "rows": rows,
               "note": f"{len(test)} test series, {len(train)} training series, {len(classes)} classes; every "
                       "classifier sees the same normalised series."},
              {"title": "Confusion matrix", "columns": ["true \\ predicted", *classes],
               "rows": [[c, *counts[i].tolist()] for i, c in enumerate(classes)]}]
    return {"summary": summary, "tables": tables, "notes": notes, "per_class_accuracy": per_class}


def _sentence(s: dict, name: str, n_test: int) -> str:
    text = f"Test accuracy {s['accuracy']:.1%} ({round(s['accuracy'] * n_test)}/{n_test}) for the {name}"
    base = [(k, s[f"accuracy_1nn_{k}"]) for k in ("dtw", "euclidean") if f"accuracy_1nn_{k}" in s]
    if not base:
        m = s["accuracy_majority"]
        verdict = "better" if s["accuracy"] > m else "NOT better: it has not learned the task"
        return f"{text} against {m:.1%} for always answering the most common class: {verdict}."
    names = {"dtw": "1-NN DTW", "euclidean": "1-NN Euclidean"}
    text += " against " + " and ".join(f"{v:.1%} for {names[k]}" for k, v in base)
    best = max(v for _, v in base)
    if s["accuracy"] > best:
        return text + ": better than the baselines."
    if s["accuracy"] == best:
        return text + ": level with the best baseline."
    return text + ": NOT better than the best baseline (train longer, augment, or see the diagnosis)."


def headline(metrics: dict) -> str:
    return metrics.get("summary", {}).get("headline", "")


# --------------------------------------------------------------------------------------------- figures


def plot_series_by_class(x, lengths, y, pred, classes, path: Path, max_per_class: int = 40) -> None:
    """One panel per true class (up to 6): its test series, the misclassified ones in red on top."""
    from pinngen.report.draw import new_figure, save_png

    shown = list(range(min(len(classes), 6)))
    fig = new_figure(3.6 * len(shown), 3.0)
    axes = np.atleast_1d(fig.subplots(1, len(shown), sharey=True))
    for ax, c in zip(axes, shown, strict=True):
        idx = np.flatnonzero(y == c)
        wrong = idx[pred[idx] != c]
        for i in idx[:max_per_class]:
            ax.plot(x[i, :lengths[i], 0], color="#7f8c8d", lw=0.6, alpha=0.5)
        for i in wrong[:max_per_class]:
            ax.plot(x[i, :lengths[i], 0], color="#c0392b", lw=1.1)
        ax.set_title(f"class {classes[c]}: {len(idx) - len(wrong)}/{len(idx)} right", fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("value (first feature)")
    fig.suptitle("Test series by true class (red: misclassified)", fontsize=11)
    save_png(fig, path)


def plot_attention(maps: np.ndarray, spec: dict, length: int, label: str, path: Path) -> None:
    """Attention weights ``(layers, heads, L, L)`` of one test series: rows are queries, columns keys (tokens of
    ``patch`` steps; the [CLS] token first when there is one), only the series' valid tokens."""
    from pinngen.report.draw import new_figure, save_png

    m = spec["model"]
    n = -(-length // m["patch"]) + (m["pooling"] == "cls")
    layers, heads = maps.shape[:2]
    fig = new_figure(2.4 * heads + 0.8, 2.4 * layers + 0.6)
    axes = np.array(fig.subplots(layers, heads, squeeze=False))
    for i in range(layers):
        for j in range(heads):
            ax = axes[i, j]
            ax.imshow(maps[i, j, :n, :n], cmap="viridis", vmin=0.0, aspect="equal")
            ax.set_title(f"layer {i + 1}, head {j + 1}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[-1, 0].set_xlabel("key token")
    axes[-1, 0].set_ylabel("query token")
    tok = f"{m['patch']} steps per token" + (", [CLS] first" if m["pooling"] == "cls" else "")
    fig.suptitle(f"Attention of the first test series (class {label}; {tok})", fontsize=11)
    save_png(fig, path)
