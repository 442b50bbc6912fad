import numpy as np
import pytest

from pinngen.core.history import History
from pinngen.report import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 1024


def test_loss_curves(history, sample, tmp_path):
    out = plots.plot_loss_curves(history, sample.findings, tmp_path / "loss.png", title="demo")
    assert out == tmp_path / "loss.png"
    assert_png(out)


def test_loss_curves_without_lr_or_findings_and_negative_loss(tmp_path):
    h = History()
    steps = np.arange(400)
    h.extend(steps, "adam", {"loss": np.linspace(2.0, -3.0, 400), "loss/nll": np.linspace(2.0, -3.0, 400)})
    assert_png(plots.plot_loss_curves(h, None, tmp_path / "nll.png"))
    assert_png(plots.plot_loss_curves(History(), [], tmp_path / "empty.png"))


def test_lr_find(tmp_path):
    lrs = np.logspace(-6, 0, 60)
    losses = 1.0 / (1 + 1e4 * lrs) + lrs**2 * 50
    losses[-3:] = np.inf
    assert_png(plots.plot_lr_find(lrs, losses, 1e-3, tmp_path / "lr.png"))
    assert_png(plots.plot_lr_find(lrs, losses, None, tmp_path / "lr2.png"))


def test_unknowns(history, tmp_path):
    assert_png(plots.plot_unknowns(history, tmp_path / "u.png", truths={"nu": 1.0}))
    with pytest.raises(ValueError, match="unknown"):
        plots.plot_unknowns(History(), tmp_path / "none.png")


def test_field_comparison_and_slices(tmp_path):
    x = np.linspace(-1, 1, 40)
    t = np.linspace(0, 1, 30)
    ref = np.sin(np.pi * x)[None, :] * np.exp(-t)[:, None]  # (len(t), len(x))
    pred = ref + 0.01 * np.cos(3 * x)[None, :]
    assert_png(plots.plot_field_comparison(x, t, pred, ref, tmp_path / "f.png", xlabel="x", ylabel="t",
                                           title="u(x, t)"))
    assert_png(plots.plot_slices(x, t, pred, ref, tmp_path / "s.png", at=[0.0, 0.5, 1.0]))
    with pytest.raises(ValueError, match="expected"):
        plots.plot_field_comparison(x, t, pred.T, ref, tmp_path / "bad.png", xlabel="x", ylabel="t", title="")


def test_supervised_plots(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    assert_png(plots.plot_pred_vs_true(y, y + 0.1 * rng.normal(size=200), tmp_path / "pv.png"))
    labels = rng.integers(0, 3, size=100)
    pred = np.where(rng.random(100) < 0.8, labels, (labels + 1) % 3)
    assert_png(plots.plot_confusion(labels, pred, ["a", "b", "c"], tmp_path / "cm.png"))
    with pytest.raises(ValueError, match="outside"):
        plots.plot_confusion(labels, pred, 2, tmp_path / "bad.png")


def test_image_grid(tmp_path):
    rng = np.random.default_rng(0)
    originals = rng.random((6, 12, 12))
    recon = np.clip(originals + 0.1, 0, 1)
    out = plots.plot_image_grid([originals, recon], tmp_path / "grid.png",
                                row_labels=["original", "reconstruction"], title="Autoencoder")
    assert_png(out)
