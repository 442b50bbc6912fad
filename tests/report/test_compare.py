"""``pinngen.compare`` on synthetic run folders: headlines, metrics side by side with the best marked,
overlaid curves, config differences, findings; bad input is a one-line error."""

import re

import numpy as np
import pytest

from pinngen.core.history import History
from pinngen.core.io import atomic_write_text
from pinngen.report.compare import best_columns, compare, direction
from pinngen.report.plots_compare import objective_columns, plot_compare_losses


@pytest.fixture
def two_runs(tmp_path, build, sample):
    a = build(tmp_path / "a", figure=False)
    summary = {**sample.metrics["summary"], "rel_l2_error": 0.5, "test_accuracy": 0.75}
    b = build(tmp_path / "b", metrics=dict(sample.metrics, summary=summary), figure=False)
    atomic_write_text(b / "config.yaml", sample.config.replace("width: 32", "width: 64"))
    return a, b


def _row(text, metric):
    """The cells of one row of the side-by-side table."""
    row = re.search(rf'<td class="key">{re.escape(metric)}</td>(.*?)</tr>', text).group(1)
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def test_compare_page(two_runs, tmp_path):
    out = compare(two_runs, out=tmp_path / "cmp")
    assert out == tmp_path / "cmp" / "compare.html" and (tmp_path / "cmp" / "loss_curves.png").exists()
    text = out.read_text()
    assert "a/runs/demo" in text and "b/runs/demo" in text  # same folder names: labelled by their paths
    assert text.count("Identified nu = 0.99") == 2  # each run's headline
    # rows are metrics, columns runs; lower error and higher accuracy are better, steps has no direction
    assert _row(text, "rel_l2_error") == ["0.01235 \u2605", "0.5"]
    assert _row(text, "test_accuracy") == ["&mdash;", "0.75"]  # one number: nothing to compare
    assert _row(text, "steps") == ["300", "300"] and "\u2605" not in "".join(_row(text, "steps"))
    # the config row that differs, and only that one
    assert _row(text, "model.width") == ["32", "64"] and "model.depth" not in text
    assert text.count('src="data:image/png;base64,') == 1
    assert text.count("<code>diverged</code>") == 2  # each run's findings
    assert not re.search(r'(src|href)="(?!data:|#)', text) and "<script" not in text.lower()
    assert not list((tmp_path / "cmp").glob(".*.tmp"))  # written atomically


def test_default_out_is_next_to_the_runs(two_runs, tmp_path):
    assert compare(two_runs) == tmp_path / "compare" / "compare.html"


def test_bad_input(two_runs, tmp_path):
    with pytest.raises(ValueError, match="at least 2 run folders, got 1"):
        compare(two_runs[:1])
    with pytest.raises(ValueError, match="given twice"):
        compare([two_runs[0], two_runs[0]])
    with pytest.raises(FileNotFoundError, match="metrics.json"):
        compare([two_runs[0], tmp_path])
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="cannot write the comparison to"):
        compare(two_runs, out=tmp_path / "file")


@pytest.mark.parametrize("name,sign", [("test_rmse", -1), ("rel_l2_u", -1), ("final_loss", -1),
                                       ("test_nll_is_bpd", -1), ("test_accuracy", 1), ("test_r2", 1),
                                       ("baseline_rmse", 0), ("steps", 0), ("unknown_nu", 0)])
def test_direction(name, sign):
    assert direction(name) == sign


def test_best_only_among_runs_of_one_kind():
    assert best_columns([1.0, 2.0, None], -1, ["dense", "dense", "pinn"]) == {0}
    assert best_columns([1.0, 2.0, 3.0], -1, ["dense", "dense", "pinn"]) == set()
    assert best_columns([0.9, 0.9, 0.5], 1) == {0, 1}  # ties are all best


def test_objectives_get_their_own_curves(tmp_path):
    h = History()
    steps = np.arange(40)
    h.extend(steps, "groups", {"loss": 2 + np.exp(-steps / 10), "loss/generator": 1 + np.exp(-steps / 10),
                               "loss/discriminator": np.full(40, 1.0)})
    h.meta = {"objectives": {"generator": ["adv"], "discriminator": ["real", "fake"]}}
    assert objective_columns(h) == [("generator", "loss/generator"), ("discriminator", "loss/discriminator")]
    h.meta = {"objectives": ["generator", "critic"]}  # a name without a recorded loss is skipped
    assert objective_columns(h) == [("generator", "loss/generator")]
    path = plot_compare_losses([("a", h), ("empty", None)], tmp_path / "curves.png")
    assert path.stat().st_size > 10_000
