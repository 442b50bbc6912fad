"""The report leads with the answer: headline sentence, lead tables, diagnosis, then the rest; structured
metrics render as tables, once."""

from types import SimpleNamespace

import pytest

from pinngen.report import lead, write_report
from pinngen.report.tables import report_tables, split_lead

PHASES = [{"optimizer": "adam", "steps_run": 250, "steps_max": 250, "stop_reason": "max_steps"},
          {"optimizer": "lbfgs", "steps_run": 50, "steps_max": 500, "stop_reason": "converged", "window": 2}]


def _order(text, *needles):
    where = [text.index(n) for n in needles]
    assert where == sorted(where), dict(zip(needles, where, strict=True))


def test_headline_then_lead_tables_then_diagnosis_then_the_rest(make_run, sample):
    metrics = dict(sample.metrics, phases=PHASES)
    text = write_report(make_run(metrics=metrics, figure=False), plot_missing=False).read_text()
    # kind pinn: the identified unknown is the answer, its table leads; the family's other table follows
    assert "Identified nu = 0.99 (true 1, 1.0 % off)." in text
    _order(text, 'class="answer"', "Identified unknowns", 'id="diagnosis"', "The loss became infinite",
           'id="metrics"', "Phase comparison", "Optimizer phases", 'id="notes"', 'id="config"')
    assert text.count("Identified unknowns") == 1


def test_phases_render_as_a_table_not_python_text(make_run, sample):
    metrics = dict(sample.metrics, phases=PHASES)
    text = write_report(make_run(metrics=metrics, figure=False), plot_missing=False).read_text()
    assert "<th>stop_reason</th>" in text and "<th>window</th>" in text and ">converged</td>" in text
    assert "{&#x27;optimizer" not in text and "{'optimizer" not in text and "[2 values]" not in text
    assert "summary.unknown_nu" not in text  # already in the unknowns table


def test_records_already_in_a_family_table_are_not_flattened_again():
    variants = {f"v{i}": {"test_mse": 0.1 * i, "params": 100 * i} for i in range(6)}
    metrics = {"kind": "ae-compare", "summary": {"test_mse": 0.1},
               "tables": [{"title": "Variants (same data, same budget)", "columns": ["variant"], "rows": [["v0"]]}],
               "variants": variants, "per_class_accuracy": {"0": 0.9, "1": 0.8}, "phases": PHASES}
    tables, flat = report_tables(metrics)
    assert list(flat) == ["summary.test_mse"]
    assert [t["title"] for t in tables] == ["Variants (same data, same budget)", "Per class accuracy",
                                            "Optimizer phases"]
    lead_tables, rest = split_lead(tables, ("optimizer", "Variants"))
    assert [t["title"] for t in lead_tables] == ["Optimizer phases", "Variants (same data, same budget)"]
    assert [t["title"] for t in rest] == ["Per class accuracy"]


CLAIMS = {"title": "The lecture's claims, tested", "columns": ["claim", "setting", "verdict", "evidence"],
          "rows": [["sigmoid+BCE is better still", "bottleneck 64, adam", "SUPPORTED", "..."],
                   ["sigmoid+BCE is better still", "bottleneck 16, adam", "CONTRADICTED", "..."],
                   ["linear+MSE had not finished learning", "bottleneck 64, adam", "SUPPORTED", "..."],
                   ["linear+MSE had not finished learning", "bottleneck 16, adam", "SUPPORTED", "..."]]}


@pytest.mark.parametrize("metrics,needles", [
    ({"kind": "dense", "summary": {"test_rmse": 50.0, "test_r2": 0.5, "baseline_rmse": 80.0}},
     ["Test RMSE 50", "R\u00b2 0.500", "against 80 for predicting the training mean", "37.5 % lower"]),
    ({"kind": "dense", "summary": {"test_rmse": 90.0, "baseline_rmse": 80.0}}, ["does NOT beat"]),
    ({"kind": "dense", "summary": {"test_accuracy": 0.95, "baseline_accuracy": 0.1}},
     ["Test accuracy 95.0 %", "against 10.0 % for always answering the most common class: better"]),
    ({"kind": "pinn", "summary": {"rel_l2": 3.1e-4, "max_abs_error": 2e-3},
      "notes": ["reference: closed form, 201 x 101 grid"]},
     ["Relative L2 error 3.100e-04 (0.031 %) against the reference (closed form, 201 x 101 grid)"]),
    ({"kind": "pinn", "summary": {"rel_l2": 0.01}, "unknowns": {"l1": {"value": 0.99, "true": 1.0, "rel_error": 0.01}}},
     ["Identified l1 = 0.99 (true 1, 1.0 % off); relative L2 error 0.01"]),
    ({"kind": "vae", "summary": {"test_nll_is_bpd": 1.5, "test_neg_elbo_bpd": 1.6, "baseline_histogram_bpd": 3.0,
                                 "is_samples": 100}},
     ["1.500 bits/dim", "k=100", "against 3.000 for the per-pixel histogram: 50.0 % fewer bits"]),
    ({"kind": "autoencoder", "summary": {"test_mse": 0.02, "test_bce": 0.3, "reference": "sigmoid_bce-64",
                                         "params": 12345, "test_flagged_fraction": 0.012}},
     ["Test MSE 0.02 per pixel (BCE 0.3) for sigmoid_bce-64 (12,345 parameters); 1.2 % of the test images"]),
    ({"kind": "ae-compare", "summary": {"best_variant": "sigmoid_bce-64", "best_test_mse": 0.01, "n_variants": 6},
      "tables": [CLAIMS]},
     ["Best of 6 variants: sigmoid_bce-64 (test MSE 0.01)",
      "'sigmoid+BCE is better still' SUPPORTED (bottleneck 64, adam), CONTRADICTED (bottleneck 16, adam)",
      "'linear+MSE had not finished learning' SUPPORTED in all 2 settings"]),
])
def test_each_kind_names_its_answer(metrics, needles):
    text = lead.headline(metrics)
    for needle in needles:
        assert needle in text, text


def test_unknown_kind_or_failing_headline_falls_back(monkeypatch):
    assert lead.headline({"kind": "no-such", "summary": {"final_loss": 0.5, "steps": 10}}) == \
        "Final training loss 0.5 after 10 steps."
    broken = SimpleNamespace(name="x", headline=lambda m: 1 / 0, lead_tables=())
    monkeypatch.setattr(lead, "_kind", lambda name: broken)
    assert lead.headline({"kind": "x", "summary": {}}).startswith("No headline metric")
