"""The output-layer cheatsheet as code: task -> output activation, output size and loss.

:func:`advise` answers "what should the last layer and the loss be?", :func:`check` warns *before
training* when a chosen (activation, loss, size) doesn't fit the task or the targets, and
:func:`infer_task` guesses the task from a target array.

=====================  =================  ==============  ===========================
task                   output activation  output units    loss
=====================  =================  ==============  ===========================
regression             linear             n_outputs       mse
regression_positive    softplus           n_outputs       msle
binary                 sigmoid            1               binary_crossentropy
multiclass             softmax            n_classes       categorical_crossentropy
multilabel             sigmoid            n_classes       binary_crossentropy
probabilistic          softmax            n_classes       kl_divergence
=====================  =================  ==============  ===========================

The lecture's table pairs categorical cross-entropy with a *sigmoid* output; that is an error, corrected
here: see :func:`advise`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from pinngen.core.findings import Finding
from pinngen.core.losses import LossFn, get_loss, get_output_activation, output_loss

TASKS = ("regression", "regression_positive", "binary", "multiclass", "multilabel", "probabilistic")
CLASSIFICATION_TASKS = ("binary", "multiclass", "multilabel")
REGRESSION_TASKS = ("regression", "regression_positive")

_REGRESSION_LOSSES = ("mse", "mae", "msle", "huber", "poisson", "gaussian_nll")
_CATEGORICAL_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence")
_CLASSIFICATION_LOSSES = ("binary_crossentropy",) + _CATEGORICAL_LOSSES

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

# code -> when it is raised; the tests make sure each one can fire
WARNING_CODES = {
    "bce_needs_sigmoid": "binary cross-entropy on an output that isn't a probability (linear, relu, ...)",
    "categorical_with_sigmoid": "categorical cross-entropy / KL on sigmoid outputs (the lecture's error)",
    "categorical_needs_softmax": "categorical cross-entropy / KL on an output that isn't a distribution",
    "poisson_needs_positive_output": "Poisson loss on an output that can be <= 0 or is bounded",
    "msle_negative_predictions": "msle on an output that can go negative (clipped, no gradient)",
    "gaussian_nll_needs_linear": "gaussian_nll on a squashed output",
    "softmax_single_unit": "softmax over one unit (always 1)",
    "regression_loss_on_labels": "a regression loss (mse, mae, ...) on class labels",
    "classification_loss_for_regression": "a cross-entropy loss for a regression task",
    "multiclass_as_multilabel": "sigmoid + binary cross-entropy for one-class-per-sample targets",
    "multilabel_with_softmax": "softmax for several-labels-per-sample targets",
    "targets_not_finite": "NaN or infinite targets",
    "bounded_output_unbounded_targets": "sigmoid/softmax/tanh output, regression targets outside its range",
    "positive_output_negative_targets": "relu/softplus/exp output, negative regression targets",
    "msle_negative_targets": "msle with negative targets",
    "poisson_negative_targets": "Poisson loss with negative targets",
    "labels_with_bce": "integer class labels (one column) with binary cross-entropy over k > 1 units",
    "bce_targets_outside_unit_interval": "binary cross-entropy with targets outside [0, 1]",
    "sparse_with_onehot": "sparse categorical cross-entropy with one-hot targets",
    "labels_not_integers": "one-column targets for categorical cross-entropy that aren't class indices",
    "targets_not_distributions": "KL / categorical cross-entropy targets whose rows don't sum to 1",
    "output_size_mismatch": "output units don't match the classes / target columns",
}


@dataclass(frozen=True)
class Advice:
    """The advised output layer and loss for a task; ``reason`` says why, ``alternatives`` what else fits."""

    task: str
    output_activation: str
    output_size: int
    loss: str
    reason: str
    alternatives: tuple[str, ...] = ()

    def loss_fn(self) -> LossFn:
        """``fn(raw_output, target) -> scalar``: the stable fused loss on the raw last-layer output."""
        return output_loss(self.output_activation, self.loss)

    def activation_fn(self):
        """The output activation to apply to the raw output at prediction time."""
        return get_output_activation(self.output_activation)

    def __str__(self) -> str:
        return (
            f"{self.task}: {self.output_size} unit(s), {self.output_activation} output, {self.loss} loss. "
            f"{self.reason}"
        )


@dataclass(frozen=True)
class AdviceWarning:
    """A mismatch found before training: stable ``code``, one-sentence ``message``, ``hint`` to fix it."""

    code: str
    message: str
    hint: str = ""

    def to_finding(self) -> Finding:
        """The same statement as a :class:`~pinngen.core.findings.Finding` of severity ``"warning"``."""
        return Finding(code=self.code, severity="warning", message=self.message, hint=self.hint)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" Hint: {self.hint}" if self.hint else "")


# --------------------------------------------------------------------------- advise

_CHEATSHEET: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "regression": (
        "linear",
        "mse",
        "A linear output can reach any real value, and mean squared error is the likelihood of Gaussian "
        "noise on the targets; scale the targets to mean 0, std 1.",
        (
            "mae: robust to outliers (fits the median)",
            "huber: squared for small errors, absolute for large ones",
            "msle with a softplus output: positive targets spanning orders of magnitude "
            "(task 'regression_positive')",
            "gaussian_nll with 2 x n_outputs linear units: predict a variance as well",
        ),
    ),
    "regression_positive": (
        "softplus",
        "msle",
        "For positive targets spanning orders of magnitude, msle compares log(1 + y), i.e. ratios, so the "
        "largest values don't dominate; a softplus output is always positive, so no prediction is clipped.",
        (
            "exp output + poisson: non-negative counts (log link, fused and stable)",
            "linear output + mse on log(y): the same idea by transforming the targets",
            "mse with a softplus output: positive targets on one scale",
        ),
    ),
    "binary": (
        "sigmoid",
        "binary_crossentropy",
        "One sigmoid unit gives p(y = 1) in (0, 1) and binary cross-entropy is the Bernoulli likelihood; "
        "train on the raw output with output_loss('sigmoid', 'binary_crossentropy'), stable for any logit.",
        ("2 softmax units + categorical_crossentropy (task 'multiclass', n_classes=2): equivalent",),
    ),
    "multiclass": (
        "softmax",
        "categorical_crossentropy",
        "Exactly one class per sample: softmax turns k outputs into one probability distribution (positive, "
        "summing to 1) and categorical cross-entropy, -log p(true class), is its likelihood. Not sigmoid: "
        "sigmoid outputs don't sum to 1, so the loss only pushes the true class up and never the others "
        "down; that is not the likelihood of one class (sigmoid is right for multilabel).",
        (
            "sparse_categorical_crossentropy: the same loss for integer labels "
            "(categorical_crossentropy here takes one-hot rows or integer labels)",
        ),
    ),
    "multilabel": (
        "sigmoid",
        "binary_crossentropy",
        "Each of the k labels is present or absent independently: one sigmoid unit per label and binary "
        "cross-entropy per label. Not softmax: it makes the labels compete, so two present labels could "
        "never both reach 1.",
        (),
    ),
    "probabilistic": (
        "softmax",
        "kl_divergence",
        "The targets are distributions (rows summing to 1): softmax outputs are distributions too, and "
        "KL(target || prediction) is 0 exactly when they match.",
        (
            "categorical_crossentropy on the same targets: the same gradient (it differs by the constant "
            "target entropy)",
        ),
    ),
}


def _count(name: str, value) -> int | None:
    if value is None:
        return None
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name}={value!r}; give a positive integer") from None
    if isinstance(value, bool) or n < 1:
        raise ValueError(f"{name}={value!r}; give a positive integer")
    return n


def _output_size(task: str, n_outputs: int | None, n_classes: int | None) -> int:
    if task in REGRESSION_TASKS:
        if n_classes is not None:
            raise ValueError(
                f"n_classes={n_classes!r} is for classification tasks; give task {task!r} n_outputs"
            )
        return n_outputs or 1
    if task == "binary":
        if n_outputs not in (None, 1) or n_classes not in (None, 2):
            raise ValueError(
                f"task 'binary' uses 1 sigmoid unit (2 classes), got n_outputs={n_outputs!r}, "
                f"n_classes={n_classes!r}; for 2 softmax units use task='multiclass', n_classes=2"
            )
        return 1
    if n_outputs is not None and n_classes is not None and n_outputs != n_classes:
        raise ValueError(f"task {task!r}: n_outputs={n_outputs} and n_classes={n_classes} disagree")
    k = n_classes if n_classes is not None else n_outputs
    if k is None or k < 2:
        raise ValueError(
            f"task {task!r} needs n_classes >= 2 (one output unit per class), got {k!r}; "
            "for a single yes/no label use task='binary'"
        )
    return k


def advise(task: str, *, n_outputs: int | None = None, n_classes: int | None = None) -> Advice:
    """The output activation, output size and loss for ``task`` (one of ``TASKS``).

    ``n_outputs``: number of regression targets (default 1). ``n_classes``: number of classes
    (``multiclass``), labels (``multilabel``) or categories (``probabilistic``); ``n_outputs`` is accepted
    as a synonym there. ``binary`` always has one unit.

    Why softmax and not sigmoid for categorical cross-entropy (the lecture's table says sigmoid): the
    loss ``-sum_k t_k log p_k`` is the likelihood of one class only when ``p`` is a distribution over the
    classes. Softmax outputs sum to 1, so raising the true class lowers the others. Independent
    sigmoids don't sum to 1: the loss then only pushes the true class's output towards 1 and leaves the
    rest free (all outputs near 1 scores perfectly). Sigmoid is the right output when several labels can
    be on at once (``multilabel``), and there it goes with binary cross-entropy per label.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    size = _output_size(task, _count("n_outputs", n_outputs), _count("n_classes", n_classes))
    activation, loss, reason, alternatives = _CHEATSHEET[task]
    return Advice(task, activation, size, loss, reason, alternatives)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class _Targets:
    columns: int  # size of the last axis; 1 for (n,)
    n_bad: int  # NaN/inf entries; the statistics below use the finite ones
    integer: bool  # every finite value is a whole number
    distinct: int
    lo: float
    hi: float
    min_positive: float
    binary01: bool  # every value is 0 or 1
    row_sum_lo: float
    row_sum_hi: float


def _summarise(targets) -> _Targets:
    y = np.asarray(targets)
    if y.dtype == bool:
        y = y.astype(np.int8)
    if not np.issubdtype(y.dtype, np.number) or y.ndim == 0 or y.size == 0:
        raise ValueError(
            f"targets must be a non-empty numeric array of shape (n,) or (n, d), got {y.shape} {y.dtype}"
        )
    rows = y.reshape(-1, 1) if y.ndim == 1 else y.reshape(-1, y.shape[-1])
    finite = np.isfinite(rows)
    v = rows[finite].astype(np.float64)
    if v.size == 0:
        v = np.array([np.nan])
    sums = np.where(finite, rows, 0).sum(axis=-1)
    positive = v[v > 0]
    return _Targets(
        columns=rows.shape[-1],
        n_bad=int((~finite).sum()),
        integer=bool(np.all(v == np.round(v))),
        distinct=int(np.unique(v).size),
        lo=float(v.min()),
        hi=float(v.max()),
        min_positive=float(positive.min()) if positive.size else np.nan,
        binary01=bool(np.all((v == 0) | (v == 1))),
        row_sum_lo=float(sums.min()),
        row_sum_hi=float(sums.max()),
    )


def _rows_are_distributions(t: _Targets) -> bool:
    return t.columns >= 2 and t.lo >= 0 and abs(t.row_sum_lo - 1) < 1e-3 and abs(t.row_sum_hi - 1) < 1e-3


def _task_of(t: _Targets, max_classes: int = 20) -> str:
    if t.columns == 1:
        if t.binary01:
            return "binary"
        if t.integer and t.lo >= 0 and t.distinct <= max_classes:
            return "multiclass"
    elif t.binary01:
        return "multiclass" if _rows_are_distributions(t) else "multilabel"
    elif _rows_are_distributions(t):
        return "probabilistic"
    if t.lo >= 0 and t.hi > 0 and t.hi / t.min_positive >= 1e3:
        return "regression_positive"
    return "regression"


def infer_task(targets, *, max_classes: int = 20) -> str:
    """Guess the task from a target array of shape ``(n,)`` or ``(n, d)`` (NaN/inf entries ignored).

    Rules, first match wins:

    1. one column, every value 0 or 1                                   -> ``binary``
    2. one column, whole numbers >= 0, at most ``max_classes`` distinct  -> ``multiclass`` (labels)
    3. several columns, all 0/1, exactly one 1 per row (one-hot)        -> ``multiclass``
    4. several columns, all 0/1, otherwise                              -> ``multilabel``
    5. several columns, non-negative, every row sums to 1 (+-1e-3)      -> ``probabilistic``
    6. all values >= 0 and max / (smallest positive) >= 1000            -> ``regression_positive``
    7. anything else                                                     -> ``regression``

    A guess from a sample: counts (0, 1, 2, ...) look like class labels under rule 2; pass the task
    explicitly to :func:`check` when you know it.
    """
    return _task_of(_summarise(targets), max_classes)


# --------------------------------------------------------------------------- check


@dataclass(frozen=True)
class _Setup:
    task: str | None
    explicit: bool  # task given by the caller, not guessed from the targets
    act: str
    loss: str
    size: int
    t: _Targets | None


def _choice_rules(s: _Setup) -> Iterator[AdviceWarning]:
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


def _task_rules(s: _Setup) -> Iterator[AdviceWarning]:
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


def _range_rules(s: _Setup) -> Iterator[AdviceWarning]:
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


def _is_labels(s: _Setup) -> bool:
    """One target column against several output units: class indices."""
    return s.t.columns == 1 and (s.size > 1 or s.loss == "sparse_categorical_crossentropy")


def _class_rules(s: _Setup) -> Iterator[AdviceWarning]:
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


def _size_rules(s: _Setup) -> Iterator[AdviceWarning]:
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


def check(
    task: str | None = None,
    *,
    output_activation: str,
    loss: str,
    output_size: int,
    targets=None,
) -> list[AdviceWarning]:
    """Warnings about an output layer + loss that don't fit each other, the task or the targets.

    Run it before training: an empty list means nothing looks wrong. ``targets`` (optional, shape
    ``(n,)`` or ``(n, d)``, NumPy or JAX) enables the checks on values, ranges and sizes; without
    ``task`` the task is guessed from the targets with :func:`infer_task`. Every combination returned
    by :func:`advise` passes. Codes are listed in ``WARNING_CODES``; ``[w.to_finding() for w in ...]``
    gives :class:`~pinngen.core.findings.Finding` records.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {list(TASKS)}")
    get_output_activation(output_activation)
    get_loss(loss)
    size = _count("output_size", output_size)
    if size is None:
        raise ValueError("output_size=None; give the number of output units")
    t = None if targets is None else _summarise(targets)
    guess = task if task is not None or t is None else _task_of(t)
    s = _Setup(guess, task is not None, output_activation, loss, size, t)
    rules = [_choice_rules, _task_rules, _size_rules]
    if t is not None:
        rules += [_range_rules, _class_rules]
    out: dict[str, AdviceWarning] = {}
    for rule in rules:
        for w in rule(s):
            out.setdefault(w.code, w)
    return list(out.values())
