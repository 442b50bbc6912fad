"""diagnose()'s interface: threshold overrides and validation, the order of findings, summarize(), the
context it reads, History.diagnose() and determinism (synthetic curves from diagnose_curves.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from pinngen.core.diagnose import DiagnoseThresholds, diagnose, summarize
from pinngen.core.findings import SEVERITIES
from pinngen.core.history import History

from .diagnose_curves import (
    alternating_curve,
    codes,
    converged_curve,
    make_history,
    only,
    overfitting_curves,
    pinn_terms,
    power_law_curve,
    spiky_curve,
)


# ---------------------------------------------------------------------------------------------- thresholds
def test_threshold_overrides_change_the_judgement():
    h = make_history(power_law_curve(500))
    assert codes(diagnose(h)) == ["still_learning"]
    assert codes(diagnose(h, still_learning_decrease=0.5)) == ["converged"]
    assert codes(diagnose(h, thresholds=DiagnoseThresholds(still_learning_decrease=0.5))) == ["converged"]
    # overrides apply on top of a thresholds object
    th = DiagnoseThresholds(still_learning_decrease=0.5)
    assert codes(diagnose(h, thresholds=th, still_learning_decrease=0.05)) == ["still_learning"]


def test_diverge_orders_override_is_effective():
    y = converged_curve(500)
    y[400:] *= 1e4
    assert "diverged" in codes(diagnose(make_history(y)))
    assert "diverged" not in codes(diagnose(make_history(y), diverge_orders=5))


def test_terms_ratio_and_jump_overrides_are_effective():
    h = make_history(terms=pinn_terms(500))
    assert "terms_imbalanced" not in codes(diagnose(h, terms_ratio=1e5))
    spiky = make_history(spiky_curve(500))
    assert "jumps" not in codes(diagnose(spiky, jump_factor=20))
    assert "too_short" in codes(diagnose(spiky, min_steps=1000))


def test_unknown_threshold_name_raises_and_lists_valid_names():
    with pytest.raises(ValueError, match="still_lerning") as err:
        diagnose(make_history(converged_curve(50)), still_lerning=0.1)
    assert "still_learning_decrease" in str(err.value) and "terms_ratio" in str(err.value)


@pytest.mark.parametrize(
    "bad",
    [{"final_fraction": 1.5}, {"terms_ratio": 0.5}, {"min_steps": 2.5}, {"jump_z": -1}, {"jump_z": "8"}],
)
def test_invalid_threshold_values_raise(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        DiagnoseThresholds(**bad)


def test_integer_thresholds_given_as_floats_are_accepted():
    # run configs carry overrides as dict[str, float]
    th = DiagnoseThresholds(min_steps=30.0, min_window=10.0)
    assert isinstance(th.min_steps, int) and isinstance(th.min_window, int)
    assert codes(diagnose(make_history(converged_curve(500)), min_window=10.0, min_val_points=5.0)) == [
        "converged"
    ]


def test_every_threshold_is_documented():
    import inspect

    source = inspect.getsource(DiagnoseThresholds)
    for field in dataclasses.fields(DiagnoseThresholds):
        after = source.split(f"    {field.name}:")[1].split("\n", 2)[1]
        assert after.strip().startswith('"""'), field.name


def test_bad_arguments_raise():
    h = make_history(converged_curve(50))
    with pytest.raises(ValueError, match="thresholds"):
        diagnose(h, thresholds={"min_steps": 3})
    with pytest.raises(ValueError, match="context"):
        diagnose(h, context=["relu"])


# ---------------------------------------------------------------------------------------- order, summary
def _messy_history() -> History:
    n = 500
    train, val = overfitting_curves(n)
    train = train.copy()
    for f in (0.3, 0.5):
        train[int(f * n)] *= 10
    train[450:] = np.inf
    return make_history(train, val=val)


def test_findings_are_ordered_by_severity_then_step():
    findings = diagnose(make_history(spiky_curve(500), val=0.5 * converged_curve(500, seed=4, sigma=0.01)))
    findings += diagnose(_messy_history())
    from pinngen.core.diagnose.summary import sort_findings

    ordered = sort_findings(findings)
    ranks = [SEVERITIES.index(f.severity) for f in ordered]
    assert ranks == sorted(ranks, reverse=True)
    for sev in SEVERITIES:
        steps = [f.step for f in ordered if f.severity == sev and f.step is not None]
        assert steps == sorted(steps)
    one_run = diagnose(_messy_history())
    assert one_run[0].code == "diverged" and one_run == sort_findings(one_run)


def test_every_finding_is_a_sentence_with_a_hint():
    histories = [
        make_history(spiky_curve(500)),
        make_history(alternating_curve(500)),
        make_history(terms=pinn_terms(500)),
        _messy_history(),
        make_history(power_law_curve(500)),
        make_history(converged_curve(500), val=0.5 * converged_curve(500, seed=4, sigma=0.01)),
    ]
    for h in histories:
        for f in diagnose(h):
            assert f.message[0].isupper() and f.message.endswith("."), f.message
            assert f.hint, f.code


def test_summarize_says_it_in_words():
    assert summarize([]).startswith("No findings")
    findings = diagnose(_messy_history())
    text = summarize(findings)
    assert text.startswith("Diagnosis (1 error")
    assert "non-finite" in text and "First thing to try: lower the learning rate" in text
    calm = summarize(diagnose(make_history(converged_curve(500))))
    assert "1 info" in calm and "First thing" not in calm


def test_context_stored_by_the_trainer_is_used_and_explicit_context_wins():
    h = make_history(spiky_curve(500))
    h.meta["context"] = {"activations": ["relu"], "lr": 0.5}
    f = only(diagnose(h), "jumps")
    assert f.severity == "info" and "ReLU" in f.message
    assert only(diagnose(h, context={"activations": ["tanh"]}), "jumps").severity == "warning"
    # the optimizer defaults to the last phase's name, the learning rate to the context / lr column
    g = only(diagnose(make_history(alternating_curve(500), phases=[("sgd", 500)])), "unstable")
    assert "for sgd" in g.hint
    h2 = make_history(alternating_curve(500))
    h2.record(499, {"lr": 0.25})
    assert "0.25" in only(diagnose(h2), "unstable").hint


def test_explosion_then_non_finite_is_one_diverged_finding():
    y = converged_curve(500)
    y[300:] *= np.geomspace(1, 1e30, 200)
    y[450:] = np.inf
    findings = diagnose(make_history(y))
    assert codes(findings) == ["diverged"]
    assert "orders of magnitude" in findings[0].message and "non-finite" in findings[0].message


def test_history_diagnose_passes_through():
    h = make_history(spiky_curve(500))
    assert h.diagnose(context={"activations": "relu"}) == diagnose(h, context={"activations": ["relu"]})


def test_same_input_same_findings():
    a = diagnose(make_history(overfitting_curves(500, seed=7)[0]))
    b = diagnose(make_history(overfitting_curves(500, seed=7)[0]))
    assert a == b
