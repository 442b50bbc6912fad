import json
import re

import pytest

from pinngen.report import write_report
from pinngen.report.rundir import flatten_metrics, format_value


def test_report_contents(run_dir, sample):
    out = write_report(run_dir)
    assert out == run_dir / "report.html"
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    # the name contains & < > and must appear escaped
    assert "burgers_1d &amp; &lt;friends&gt;" in text
    for f in sample.findings:
        assert f.message in text
    assert "Lower the learning rate." in text
    assert "badge-error" in text and "badge-warning" in text and "badge-info" in text
    for cell in (sample.table_cell, "adam only", "Phase comparison", "lbfgs polishes the adam solution."):
        assert cell in text
    assert "summary.final_loss" in text and "1.235e-05" in text and "timing.per_step.mean_ms" in text
    assert "0.01235" in text
    assert "Reference solution from a spectral solver." in text
    assert "width: 32" in text  # config
    # loss curves were drawn from history.csv and come first; unknowns figure is also embedded
    figures = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert figures == ["loss_curves.png", "unknowns.png"]
    assert text.count('src="data:image/png;base64,') == 2
    assert text.index("loss_curves.png") < text.index("unknowns.png")
    assert "Identified viscosity nu." in text
    assert 'src="http' not in text and "file:" not in text and "<script" not in text.lower()
    assert not re.search(r'(src|href)="(?!data:|#)', text)


def test_malicious_name_is_escaped(make_run, sample):
    metrics = dict(sample.metrics, experiment="<script>alert(1)</script>",
                   notes=["<img src=x onerror=alert(1)>"])
    run = make_run(metrics=metrics, figure=False)
    text = write_report(run, plot_missing=False).read_text()
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text


def test_broken_optional_files_are_reported_not_fatal(run_dir):
    (run_dir / "findings.json").write_text("[{\"code\": \"x\", \"severity\": \"fatal\", \"message\": \"m\"}]")
    (run_dir / "figures" / "captions.json").write_text("{not json")
    text = write_report(run_dir, plot_missing=False).read_text()
    assert "skipped an entry" in text and "captions.json is not valid JSON" in text


def test_minimal_run_folder(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"experiment": "bare", "summary": {"acc": 0.9}}))
    text = write_report(tmp_path).read_text()
    assert "bare" in text and "No diagnosis recorded" in text and "data:image" not in text


def test_missing_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        write_report(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        write_report(tmp_path)


def test_flatten_and_format():
    flat = flatten_metrics({"experiment": "x", "a": {"b": 1}, "summary": {"c": 2.0}})
    assert list(flat) == ["summary.c", "a.b"]
    assert format_value(0.000123456) == "1.235e-04"
    assert format_value(3.14159265) == "3.142"
    assert format_value(5000.0) == "5000"
    assert format_value(float("inf")) == "inf"
    assert format_value(True) == "True"
