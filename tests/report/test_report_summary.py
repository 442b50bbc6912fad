import pytest

from pinngen.report import summarize_run


def test_summary_lines(run_dir, sample):
    text = summarize_run(run_dir)
    lines = text.splitlines()
    assert lines[0].startswith(f"{sample.experiment} (pinn)")
    assert lines[1] == "  answer: Identified nu = 0.99 (true 1, 1.0 % off)."
    assert "  final_loss: 1.235e-05" in lines
    assert any(line.startswith("  training: last step 299 (adam -> lbfgs)") for line in lines)
    assert any("unknown nu: 0.99 (true 1, rel. error 0.01)" in line for line in lines)
    for f in sample.findings:
        assert any(f.message in line for line in lines)


def test_summary_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        summarize_run(tmp_path)
