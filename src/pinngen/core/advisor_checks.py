"""The rules behind :func:`pinngen.core.advisor.check`: one generator per family of mismatch.

Each rule reads a :class:`Setup` (the chosen output activation, loss and size, the task, and a summary of
the targets) and yields :class:`~pinngen.core.advisor.AdviceWarning` records; codes are listed in
``pinngen.core.advisor.WARNING_CODES``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pinngen.core.advisor import (
    _CATEGORICAL_LOSSES,
    _CHEATSHEET,
    _CLASSIFICATION_LOSSES,
    _REGRESSION_LOSSES,
    CLASSIFICATION_TASKS,
    REGRESSION_TASKS,
    AdviceWarning,
    _rows_are_distributions,
    _Targets,
)

# what each output activation can produce: for messages, and the closed range for target checks
_RANGE = {
    "linear": ("any real value", -np.inf, np.inf),
    "sigmoid": ("values in (0, 1)", 0.0, 1.0),
    "softmax": ("rows of values in (0, 1) that sum to 1", 0.0, 1.0),
    "tanh": ("values in (-1, 1)", -1.0, 1.0),
    "relu": ("values >= 0 (exactly 0 wherever the pre-activation is negative)", 0.0, np.inf),
    "softplus": ("values > 0", 0.0, np.inf),
    "exp": ("values > 0", 0.0, np.inf),
}


@dataclass(frozen=True)
class Setup:
    task: str | None
    explicit: bool  # task given by the caller, not guessed from the targets
    act: str
    loss: str
    size: int
    t: _Targets | None


def _choice_rules(s: Setup) -> Iterator[AdviceWarning]:
    """Activation vs loss, independent of task and targets."""
    a, l, can = s.act, s.loss, _RANGE[s.act][0]
    if l == "binary_crossentropy" and a not in ("sigmoid", "softmax"):
        yield AdviceWarning(
            "bce_needs_sigmoid",
            f"binary cross-entropy needs probabilities in (0, 1), but a {a} output gives {can}; its log is "
            "undefined outside (0, 1) (the loss clips it, and the gradient stops there).",
            "use a sigmoid output and train with output_loss('sigmoid', 'binary_crossentropy') on the raw "
            "output",
        )
    if l in _CATEGORICAL_LOSSES and a == "sigmoid":
        yield AdviceWarning(
            "categorical_with_sigmoid",
            f"{l} on sigmoid outputs: they don't sum to 1, so the loss only pushes the true class's output "
            "up and never the others down; that is not the likelihood of one class (the lecture's error).",
            "use softmax for one class per sample; for several labels per sample keep sigmoid with "
            "binary_crossentropy",
        )
    elif l in _CATEGORICAL_LOSSES and a != "softmax":
        yield AdviceWarning(
            "categorical_needs_softmax",
            f"{l} needs every output row to be a probability distribution, but a {a} output gives {can}.",
            f"use a softmax output and train with output_loss('softmax', {l!r}) on the raw output",
        )
    if l == "poisson" and a not in ("exp", "softplus"):
        yield AdviceWarning(
            "poisson_needs_positive_output",
            f"the Poisson loss needs a positive, unbounded rate, but a {a} output gives {can}.",
            "use an exp output (output_loss('exp', 'poisson') is stable) or softplus",
        )
    if l == "msle" and a in ("linear", "tanh"):
        yield AdviceWarning(
            "msle_negative_predictions",
            f"msle takes log(1 + prediction), and a {a} output can go negative, where predictions are "
            "clipped to 0 and get no gradient.",
            "use a softplus (or exp) output with msle",
        )
    if l == "gaussian_nll" and a != "linear":
        yield AdviceWarning(
            "gaussian_nll_needs_linear",
            f"gaussian_nll reads a mean and a log-variance from the output, which a {a} output restricts "
            f"to {can}.",
            "use a linear output with 2 units per target",
        )
    if a == "softmax" and s.size == 1:
        yield AdviceWarning(
            "softmax_single_unit",
            "softmax over a single output unit always returns 1, whatever the input, so there is no gradient "
            "and the network learns nothing.",
            "for a yes/no target use 1 sigmoid unit with binary_crossentropy (or 2 softmax units)",
        )


def _task_rules(s: Setup) -> Iterator[AdviceWarning]:
    task, a, l = s.task, s.act, s.loss
    if task is None:
        return
    why = f"the task is {task!r}" if s.explicit else f"the targets look like {task} labels"
    label_losses = _REGRESSION_LOSSES if s.explicit else ("mse", "mae", "huber")
    if task in CLASSIFICATION_TASKS and l in label_losses:
        advice = _CHEATSHEET[task]
        yield AdviceWarning(
            "regression_loss_on_labels",
            f"{l} is a regression loss but {why}: it treats classes as numbers on a line and is not the "
            "likelihood of a class"
            + ("" if s.explicit else " (ignore this if they are measured integers)")
            + ".",
            f"use a {advice[0]} output with {advice[1]} (advise({task!r}))",
        )
    if s.explicit and task in REGRESSION_TASKS and l in _CLASSIFICATION_LOSSES:
        yield AdviceWarning(
            "classification_loss_for_regression",
            f"the task is {task!r} (continuous targets) but {l} is a classification loss over probabilities.",
            f"use advise({task!r}): a {_CHEATSHEET[task][0]} output with {_CHEATSHEET[task][1]}",
        )
    if task == "multiclass" and a == "sigmoid" and l == "binary_crossentropy":
        yield AdviceWarning(
            "multiclass_as_multilabel",
            f"{why} (one class per sample), but sigmoid + binary cross-entropy scores each class "
            "independently, so the outputs are not one distribution and several classes can be 'on' at once.",
            "use a softmax output with categorical_crossentropy",
        )
    if task == "multilabel" and a == "softmax":
        yield AdviceWarning(
            "multilabel_with_softmax",
            f"{why} (several labels can be on at once), but softmax outputs sum to 1, so two present labels "
            "can never both reach 1.",
            "use one sigmoid unit per label with binary_crossentropy",
        )


def _range_rules(s: Setup) -> Iterator[AdviceWarning]:
    t, a, l = s.t, s.act, s.loss
    span = f"[{t.lo:g}, {t.hi:g}]"
    if t.n_bad:
        yield AdviceWarning(
            "targets_not_finite",
            f"{t.n_bad} target value(s) are NaN or infinite, which makes every loss over them NaN.",
            "drop or impute those samples before training",
        )
    can, lo, hi = _RANGE[a]
    if l in ("mse", "mae", "huber", "msle") and (t.lo < lo or t.hi > hi):
        if hi == np.inf:
            yield AdviceWarning(
                "positive_output_negative_targets",
                f"a {a} output is never negative, but the targets go down to {t.lo:g}.",
                "use a linear output for signed targets",
            )
        else:
            yield AdviceWarning(
                "bounded_output_unbounded_targets",
                f"a {a} output gives {can}, but the targets span {span}, which the network can never reach.",
                "use a linear output for regression (or scale the targets into the output's range)",
            )
    if l == "msle" and t.lo < 0:
        yield AdviceWarning(
            "msle_negative_targets",
            f"msle takes log(1 + target), but the targets go down to {t.lo:g}: values <= -1 give NaN and "
            "negative ones have no meaning as a ratio.",
            "use mse or huber for signed targets",
        )
    if l == "poisson" and t.lo < 0:
        yield AdviceWarning(
            "poisson_negative_targets",
            f"the Poisson loss is for non-negative counts, but the targets go down to {t.lo:g}.",
            "use mse for signed targets",
        )


def _is_labels(s: Setup) -> bool:
    """One target column against several output units: class indices."""
    return s.t.columns == 1 and (s.size > 1 or s.loss == "sparse_categorical_crossentropy")


def _class_rules(s: Setup) -> Iterator[AdviceWarning]:
    t, l = s.t, s.loss
    span = f"[{t.lo:g}, {t.hi:g}]"
    if l == "binary_crossentropy":
        if _is_labels(s) and t.integer and t.hi > 1:
            yield AdviceWarning(
                "labels_with_bce",
                f"the targets are class labels 0..{t.hi:g} in one column, but binary cross-entropy compares "
                f"each of the {s.size} output units with a 0/1 target of its own.",
                "use softmax + categorical_crossentropy (it takes integer labels), or one-hot rows for "
                "multilabel",
            )
        elif t.lo < 0 or t.hi > 1:
            yield AdviceWarning(
                "bce_targets_outside_unit_interval",
                "binary cross-entropy needs targets in [0, 1] (0/1 labels or probabilities), but they span "
                f"{span}.",
                "for class labels use softmax + categorical_crossentropy; for continuous targets a linear "
                "output with mse",
            )
    if l not in _CATEGORICAL_LOSSES:
        return
    if l == "sparse_categorical_crossentropy" and t.columns > 1:
        yield AdviceWarning(
            "sparse_with_onehot",
            f"sparse categorical cross-entropy takes integer labels of shape (n,), but the targets have "
            f"{t.columns} columns (one-hot?).",
            "use categorical_crossentropy, or labels = targets.argmax(-1)",
        )
    elif _is_labels(s) and l != "kl_divergence":
        if not t.integer or t.lo < 0:
            yield AdviceWarning(
                "labels_not_integers",
                f"{l} reads one-column targets as class indices 0..k-1, but these span {span} and are not "
                "all non-negative whole numbers.",
                "give integer labels 0..k-1 or one-hot rows; for continuous targets use a regression loss",
            )
    elif _is_labels(s) or (t.columns > 1 and not _rows_are_distributions(t)):
        sums = f"rows summing to [{t.row_sum_lo:g}, {t.row_sum_hi:g}]"
        what = "one column (labels?)" if t.columns == 1 else sums
        yield AdviceWarning(
            "targets_not_distributions",
            f"{l} needs each target row to be a distribution (non-negative, summing to 1), but the targets "
            f"have {what}" + (f" and values down to {t.lo:g}" if t.lo < 0 else "") + ".",
            "for several 0/1 labels per row use sigmoid + binary_crossentropy; otherwise normalise the rows "
            "(or one-hot encode labels)",
        )


def _size_rules(s: Setup) -> Iterator[AdviceWarning]:
    t, l, size = s.t, s.loss, s.size
    if t is None:
        ok = {
            "binary": size == 1 or (s.act == "softmax" and size == 2),
            "multiclass": size >= 2,
            "multilabel": size >= 2,
            "probabilistic": size >= 2,
        }.get(s.task, True)
        if not ok:
            binary = s.task == "binary"
            need = "1 output unit (sigmoid) or 2 (softmax)" if binary else "one output unit per class"
            yield AdviceWarning(
                "output_size_mismatch",
                f"a {s.task} task needs {need}, but the output has {size}.",
                f"use advise({s.task!r}, ...).output_size",
            )
        return
    if _is_labels(s) and l in _CATEGORICAL_LOSSES:
        if t.integer and t.lo >= 0 and t.hi >= size:
            one_based = " (the labels look 1-based: subtract 1)" if t.lo >= 1 and t.hi == size else ""
            yield AdviceWarning(
                "output_size_mismatch",
                f"the labels go up to {t.hi:g}, so there are at least {t.hi + 1:g} classes, but the output "
                f"has {size} unit(s).",
                "use one output unit per class" + one_based,
            )
        return
    if _is_labels(s) and l == "binary_crossentropy" and t.integer and t.hi > 1:
        return  # labels_with_bce says it
    expected = 2 * t.columns if l == "gaussian_nll" else t.columns
    if size != expected:
        per = " (gaussian_nll needs 2 per target: mean and log-variance)" if l == "gaussian_nll" else ""
        yield AdviceWarning(
            "output_size_mismatch",
            f"the output has {size} unit(s) but the targets have {t.columns} column(s), so {expected} are "
            f"needed{per}.",
            "give the output layer one unit per target column (per class for one-hot targets)",
        )


def warnings_for(s: Setup) -> list[AdviceWarning]:
    """Every rule's warnings, the first of each code kept."""
    rules = [_choice_rules, _task_rules, _size_rules]
    if s.t is not None:
        rules += [_range_rules, _class_rules]
    out: dict[str, AdviceWarning] = {}
    for rule in rules:
        for w in rule(s):
            out.setdefault(w.code, w)
    return list(out.values())
