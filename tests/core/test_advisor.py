"""The cheatsheet: advise() per task, check() warnings, and advise/check consistency."""

import numpy as np
import pytest

from pinngen.core import advisor as A
from pinngen.core.findings import Finding

RNG = np.random.default_rng(1)
N = 12
LABELS = np.array([0, 1, 2, 3, 2, 1, 0, 3, 1, 2, 0, 3])  # (n,) 4 classes
ONEHOT = np.eye(4)[LABELS]  # (n, 4)
Y01 = LABELS % 2  # (n,) binary
MULTI01 = (RNG.random((N, 4)) < 0.5).astype(float)
MULTI01[0] = [1, 1, 0, 0]  # at least one row with two labels on
DIST = RNG.dirichlet(np.ones(5), size=N)  # (n, 5) rows sum to 1
REG = RNG.normal(size=N) * 3  # (n,) signed, continuous
REG3 = RNG.normal(size=(N, 3))
POS = np.exp(RNG.normal(scale=3.0, size=(N, 2))) + np.array([1e-3, 1e4])  # spans orders of magnitude

# task -> (advise kwargs, typical targets)
EXAMPLES = {
    "regression": [({}, REG), ({"n_outputs": 3}, REG3)],
    "regression_positive": [({"n_outputs": 2}, POS)],
    "binary": [({}, Y01), ({}, Y01[:, None].astype(bool))],
    "multiclass": [
        ({"n_classes": 4}, LABELS),
        ({"n_classes": 4}, ONEHOT),
        ({"n_outputs": 4}, LABELS[:, None]),
    ],
    "multilabel": [({"n_classes": 4}, MULTI01)],
    "probabilistic": [({"n_classes": 5}, DIST)],
}


def codes(**kwargs):
    return [w.code for w in A.check(**kwargs)]


# --------------------------------------------------------------------------- advise


def test_advise_every_task():
    expected = {
        "regression": ("linear", 1, "mse"),
        "regression_positive": ("softplus", 1, "msle"),
        "binary": ("sigmoid", 1, "binary_crossentropy"),
        "multiclass": ("softmax", 5, "categorical_crossentropy"),
        "multilabel": ("sigmoid", 5, "binary_crossentropy"),
        "probabilistic": ("softmax", 5, "kl_divergence"),
    }
    assert set(expected) == set(A.TASKS)
    for task, (act, size, loss) in expected.items():
        kw = {"n_classes": 5} if size == 5 else {}
        a = A.advise(task, **kw)
        assert (a.task, a.output_activation, a.output_size, a.loss) == (task, act, size, loss)
        assert a.reason.endswith(".") and isinstance(a.alternatives, tuple)
        assert loss in str(a)
    assert A.advise("regression", n_outputs=3).output_size == 3
    assert A.advise("multiclass", n_outputs=3).output_size == 3
    alts = " ".join(A.advise("regression").alternatives)
    assert "mae" in alts and "outlier" in alts and "msle" in alts
    # the lecture table's sigmoid + categorical cross-entropy is corrected, and says why
    multiclass = A.advise("multiclass", n_classes=3)
    assert multiclass.output_activation == "softmax" and "sum to 1" in multiclass.reason
    assert "sigmoid" in (A.advise.__doc__ or "") and "multilabel" in multiclass.reason


def test_advice_functions_run_on_raw_outputs():
    a = A.advise("multiclass", n_classes=4)
    raw = RNG.normal(size=(N, a.output_size))
    assert np.isfinite(float(a.loss_fn()(raw, LABELS)))
    np.testing.assert_allclose(np.asarray(a.activation_fn()(raw)).sum(-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "task,kwargs,match",
    [
        ("classify", {}, r"unknown task 'classify'.*'multiclass'"),
        ("multiclass", {}, "n_classes"),
        ("multiclass", {"n_classes": 1}, "n_classes >= 2"),
        ("multiclass", {"n_classes": 3, "n_outputs": 4}, "disagree"),
        ("binary", {"n_classes": 3}, "multiclass"),
        ("binary", {"n_outputs": 2}, "n_outputs=2"),
        ("regression", {"n_classes": 2}, "n_classes"),
        ("regression", {"n_outputs": 0}, "n_outputs=0"),
        ("regression", {"n_outputs": 1.5}, "n_outputs=1.5"),
    ],
)
def test_advise_rejects_bad_arguments(task, kwargs, match):
    with pytest.raises(ValueError, match=match):
        A.advise(task, **kwargs)


# --------------------------------------------------------------------------- consistency


@pytest.mark.parametrize("task", A.TASKS)
def test_every_advice_passes_check(task):
    for kwargs, targets in EXAMPLES[task]:
        a = A.advise(task, **kwargs)
        setup = {"output_activation": a.output_activation, "loss": a.loss, "output_size": a.output_size}
        assert A.check(task, **setup) == []
        assert A.check(task, **setup, targets=targets) == []
        assert A.check(**setup, targets=targets) == []  # task guessed from the targets
        assert A.infer_task(targets) == task


# --------------------------------------------------------------------------- check: one case per code


def case(act, loss, size, task=None, targets=None):
    return dict(task=task, output_activation=act, loss=loss, output_size=size, targets=targets)


BCE, CCE, KL = "binary_crossentropy", "categorical_crossentropy", "kl_divergence"
CASES = {
    "bce_needs_sigmoid": case("linear", BCE, 1, "binary"),
    "categorical_with_sigmoid": case("sigmoid", CCE, 4, "multiclass"),
    "categorical_needs_softmax": case("linear", KL, 4),
    "poisson_needs_positive_output": case("linear", "poisson", 1),
    "msle_negative_predictions": case("linear", "msle", 1),
    "gaussian_nll_needs_linear": case("softplus", "gaussian_nll", 2),
    "softmax_single_unit": case("softmax", BCE, 1, "binary"),
    "regression_loss_on_labels": case("softmax", "mse", 4, "multiclass"),
    "classification_loss_for_regression": case("sigmoid", BCE, 1, "regression"),
    "multiclass_as_multilabel": case("sigmoid", BCE, 4, "multiclass"),
    "multilabel_with_softmax": case("softmax", CCE, 4, "multilabel"),
    "targets_not_finite": case("linear", "mse", 1, targets=np.array([0.5, np.nan, 2.5])),
    "bounded_output_unbounded_targets": case("sigmoid", "mse", 1, "regression", REG),
    "positive_output_negative_targets": case("relu", "mae", 1, targets=REG),
    "msle_negative_targets": case("softplus", "msle", 1, targets=REG),
    "poisson_negative_targets": case("exp", "poisson", 1, targets=REG),
    "labels_with_bce": case("sigmoid", BCE, 4, targets=LABELS),
    "bce_targets_outside_unit_interval": case("sigmoid", BCE, 1, targets=REG),
    "sparse_with_onehot": case("softmax", "sparse_categorical_crossentropy", 4, targets=ONEHOT),
    "labels_not_integers": case("softmax", CCE, 4, targets=REG),
    "targets_not_distributions": case("softmax", KL, 4, targets=MULTI01),
    "output_size_mismatch": case("softmax", CCE, 3, targets=LABELS),
}


def test_every_warning_code_has_a_case():
    assert set(CASES) == set(A.WARNING_CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_check_warns(code):
    found = A.check(**CASES[code])
    assert code in [w.code for w in found]
    w = next(w for w in found if w.code == code)
    assert w.message.endswith(".") and w.hint
    f = w.to_finding()
    assert isinstance(f, Finding) and f.severity == "warning"
    assert (f.code, f.message, f.hint) == (w.code, w.message, w.hint)
    assert code in str(w)


def test_check_more_mismatches():
    # mse on class labels guessed from the targets (no task given)
    assert "regression_loss_on_labels" in codes(**case("linear", "mse", 1, targets=LABELS))
    # categorical cross-entropy on multilabel rows; kl on integer labels
    assert "targets_not_distributions" in codes(**case("softmax", CCE, 4, targets=MULTI01))
    assert "targets_not_distributions" in codes(**case("softmax", KL, 4, targets=LABELS))
    # regression targets with more columns than outputs; gaussian_nll needs two per target
    assert codes(**case("linear", "mse", 1, targets=REG3)) == ["output_size_mismatch"]
    assert codes(**case("linear", "gaussian_nll", 3, targets=REG3)) == ["output_size_mismatch"]
    assert codes(**case("linear", "gaussian_nll", 6, targets=REG3)) == []
    # 1-based labels 1..4 with 4 units
    w = A.check(**case("softmax", CCE, 4, targets=LABELS + 1))
    assert [x.code for x in w] == ["output_size_mismatch"] and "1-based" in w[0].hint
    # size from the task alone
    assert "output_size_mismatch" in codes(**case("sigmoid", BCE, 3, "binary"))
    assert "output_size_mismatch" in codes(**case("sigmoid", BCE, 1, "multilabel"))
    # binary as 2 softmax units is fine
    assert codes(**case("softmax", CCE, 2, "binary", Y01)) == []
    # counts with a Poisson loss are not mistaken for class labels
    assert codes(**case("exp", "poisson", 1, targets=np.array([0, 3, 1, 2, 5, 0, 1]))) == []


def test_check_rejects_bad_arguments():
    ok = dict(output_activation="linear", loss="mse", output_size=1)
    with pytest.raises(ValueError, match="unknown task"):
        A.check("classification", **ok)
    with pytest.raises(ValueError, match=r"unknown loss 'l2'.*'mse'"):
        A.check(**{**ok, "loss": "l2"})
    with pytest.raises(ValueError, match=r"unknown output activation 'identity'.*'linear'"):
        A.check(**{**ok, "output_activation": "identity"})
    with pytest.raises(ValueError, match="output_size"):
        A.check(**{**ok, "output_size": 0})
    with pytest.raises(ValueError, match="non-empty"):
        A.check(**ok, targets=np.array([]))


# --------------------------------------------------------------------------- infer_task


@pytest.mark.parametrize(
    "targets,task",
    [
        (REG, "regression"),
        (REG3, "regression"),
        (np.array([0.1, 0.5, 0.7]), "regression"),
        (POS, "regression_positive"),
        (Y01, "binary"),
        (np.array([True, False, True]), "binary"),
        (Y01[:, None].astype(np.float32), "binary"),
        (LABELS, "multiclass"),
        (LABELS.astype(float), "multiclass"),
        (ONEHOT, "multiclass"),
        (MULTI01, "multilabel"),
        (DIST, "probabilistic"),
        (np.array([-1, 0, 1, 2]), "regression"),  # negative integers are not labels
        (np.arange(50), "regression"),  # too many distinct integers for classes
        (np.array([0.0, 1.0, np.nan, 1.0]), "binary"),  # NaN ignored
    ],
)
def test_infer_task(targets, task):
    assert A.infer_task(targets) == task


def test_infer_task_rejects_non_arrays():
    with pytest.raises(ValueError, match="non-empty"):
        A.infer_task(np.float64(3.0))
    with pytest.raises(ValueError, match="numeric"):
        A.infer_task(np.array(["a", "b"]))
    assert A.infer_task(np.arange(50), max_classes=100) == "multiclass"
