"""One reader of run folders: ``pinngen.load(dir)``'s properties and the report read the same files the same way."""

import json

import pytest

from pinngen.config import dump_config, load_config
from pinngen.core.io import atomic_write_json, atomic_write_text
from pinngen.report.rundir import load_run, read_findings, read_history, read_metrics
from pinngen.runs import Run


@pytest.fixture
def run_folder(run_dir):
    atomic_write_text(run_dir / "config.yaml", dump_config(load_config("dense-diabetes")))
    atomic_write_json(run_dir / "history.meta.json", {"context": {"optimizer": "adam"}, "phases": []})
    return run_dir


def test_run_properties_are_the_report_reader(run_folder, sample):
    run, data = Run(run_folder), load_run(run_folder)
    assert run.metrics == data.metrics == read_metrics(run_folder) == json.loads(json.dumps(sample.metrics))
    assert run.config.kind == "dense" and run.config.name == "dense-diabetes"
    assert run.history.meta == data.history.meta == {"context": {"optimizer": "adam"}, "phases": []}
    assert run.history.columns == data.history.columns and len(run.history) == len(data.history) == 300
    assert [f.code for f in run.findings] == [f.code for f in sample.findings]  # file order
    assert {f.code for f in data.findings} == {f.code for f in run.findings}  # the report sorts by severity


def test_damaged_findings_are_skipped_and_said(run_folder, caplog):
    (run_folder / "findings.json").write_text('[{"code": "x", "severity": "fatal", "message": "m"}]')
    problems = []
    assert read_findings(run_folder, problems) == [] and "skipped an entry" in problems[0]
    assert Run(run_folder).findings == [] and "skipped an entry" in caplog.text


def test_missing_files_are_one_line_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        read_metrics(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="history.csv not found"):
        read_history(tmp_path)
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(ValueError, match="metrics.json is not valid JSON"):
        read_metrics(tmp_path)
