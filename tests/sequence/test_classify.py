"""The ``sequence-classify`` kind: labelled-series loading and its errors, masks (padding never changes a
prediction), a trained run well above chance with its evaluation, ``predict`` and ``pinngen predict``."""

import json
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.config import load_config
from pinngen.data import DataError
from pinngen.sequence.classify_model import SequenceClassifier
from pinngen.sequence.labelled import encode, from_arrays, load_labelled_series, split_set, znormalize


def ramps(n: int, seed: int, classes=("rise", "fall")):
    """Ragged series of 10..20 steps: noisy ramps up (``rise``) or down (``fall``) with random offsets/scales."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = classes[i % len(classes)]
        t = np.linspace(0.0, 1.0, rng.integers(10, 21))
        slope = {"rise": 1.0, "fall": -1.0, "flat": 0.0}[label]
        out.append((label, rng.uniform(-5, 5) + rng.uniform(0.5, 3) * (slope * t + 0.15 * rng.normal(size=len(t)))))
    return out


def write_csv(path, rows, *, header=False, pad_to=None):
    """Label first, then values; rows padded with empty cells (every other row) or left short."""
    lines = ["label," + ",".join(f"t{j}" for j in range(pad_to or 20))] if header else []
    for i, (label, v) in enumerate(rows):
        cells = [label] + [repr(float(a)) for a in v]
        if i % 2 and pad_to:
            cells += [""] * (pad_to + 1 - len(cells))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


CONFIG = dict(kind="sequence-classify", name="ramps",
              data=dict(source="file", test_fraction=0.3),
              model=dict(arch="lstm", hidden=8, patch=2),
              augment=dict(scale=0.1, jitter=0.02),
              train=dict(eval_every=50, progress=False,
                         phases=[dict(optimizer="adam", lr=0.02, steps=150, batch_size=16)]))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cls")
    path = write_csv(d / "ramps.csv", ramps(60, 0), header=True, pad_to=20)
    cfg = {**CONFIG, "data": {**CONFIG["data"], "path": str(path)}}
    return pinngen.run(cfg, out=d / "run")


# ------------------------------------------------------------------------------------------------ loader


def test_csv_loader_reads_ragged_rows_with_a_header(tmp_path):
    rows = ramps(6, 1)
    s = load_labelled_series(write_csv(tmp_path / "a.csv", rows, header=True, pad_to=20))
    assert list(s.lengths) == [len(v) for _, v in rows] and list(s.labels) == [lab for lab, _ in rows]
    assert s.x.shape == (6, max(len(v) for _, v in rows), 1)
    for i, (_, v) in enumerate(rows):
        np.testing.assert_array_equal(s.x[i, :len(v), 0], v)
        assert np.all(s.x[i, len(v):] == 0.0)


def test_npz_loader_takes_lengths_and_multivariate_series(tmp_path):
    x = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    x[1, 3:] = np.nan
    np.savez(tmp_path / "a.npz", x=x, y=np.array([7, 8]))
    s = load_labelled_series(tmp_path / "a.npz")
    assert s.features == 3 and list(s.lengths) == [5, 3] and list(s.labels) == ["7", "8"]
    np.savez(tmp_path / "b.npz", x=np.ones((2, 5)), y=np.array(["a", "b"]), lengths=np.array([2, 5]))
    assert list(load_labelled_series(tmp_path / "b.npz").lengths) == [2, 5]


@pytest.mark.parametrize("bad, match", [
    ("a,1,2,,4\n", r"row 1 has a missing .* at step 3 of 4, inside the series"),
    ("a,1,2\nb,1,x\n", r"row 2, column 3: 'x' is not a number"),
    ("a\nb\n", "only one cell"),
])
def test_csv_loader_errors_are_one_line_and_name_the_place(tmp_path, bad, match):
    (tmp_path / "bad.csv").write_text(bad)
    with pytest.raises(DataError, match=match) as e:
        load_labelled_series(tmp_path / "bad.csv")
    assert "\n" not in str(e.value)


def test_wrong_dimensions_are_one_line_errors(tmp_path):
    np.savez(tmp_path / "four.npz", x=np.ones((2, 3, 4, 5)), y=np.array([0, 1]))
    with pytest.raises(DataError, match=r"shape \(2, 3, 4, 5\); pass \(n, time\)"):
        load_labelled_series(tmp_path / "four.npz")
    with pytest.raises(DataError, match="one label per series"):
        from_arrays(np.ones((3, 4)), [0, 1])
    uni, multi = from_arrays(np.ones((2, 4)), [0, 1]), from_arrays(np.ones((2, 4, 2)), [0, 1], source="t.npz")
    with pytest.raises(DataError, match="t.npz: series with 2 feature"):
        encode(uni, multi)


def test_a_test_class_unseen_in_training_is_named(tmp_path):
    train = write_csv(tmp_path / "train.csv", ramps(8, 2))
    test = write_csv(tmp_path / "test.csv", ramps(6, 3, classes=("rise", "flat")))
    with pytest.raises(DataError, match=r"test.csv: test labels \['flat'\] never occur in training"):
        encode(load_labelled_series(train), load_labelled_series(test))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"kind: sequence-classify\ndata: {{source: file, path: {train}, test_path: {test}}}\n")
    assert main(["run", str(cfg), "--out", str(tmp_path / "r"), "--no-progress"]) == 2


def test_split_is_stratified_seeded_and_disjoint():
    s = from_arrays(np.arange(40.0).reshape(20, 2), ["a"] * 14 + ["b"] * 6)
    tr, te = split_set(s, 0.5, seed=3)
    assert int((te.labels == "a").sum()) == 7 and int((te.labels == "b").sum()) == 3
    assert not set(tr.x[:, 0, 0]) & set(te.x[:, 0, 0]) and len(tr) + len(te) == 20
    np.testing.assert_array_equal(split_set(s, 0.5, seed=3)[1].x, te.x)


def test_znormalize_uses_only_the_valid_steps():
    x = np.array([[1.0, 2.0, 3.0, 0.0], [5.0, 5.0, 5.0, 5.0]])[..., None]
    z = znormalize(x, np.array([3, 4]))
    np.testing.assert_allclose(z[0, :3, 0], (np.array([1, 2, 3]) - 2) / np.sqrt(2 / 3))
    assert z[0, 3, 0] == 0.0 and np.all(z[1] == 0.0)  # padding stays 0; a constant series is only centred


# ------------------------------------------------------------------------------------------------- masks


@pytest.mark.parametrize("kw", [dict(arch="lstm", layers=2), dict(arch="gru", bidirectional=True, patch=3),
                                dict(arch="transformer", pooling="mean", patch=2),
                                dict(arch="transformer", pooling="cls", positions="rotary")])
def test_padding_never_changes_the_prediction(kw):
    model = SequenceClassifier(in_size=2, classes=3, hidden=6, dim=8, heads=2, key=jax.random.PRNGKey(1), **kw)
    call = eqx.filter_jit(lambda m, x, n: m(x, n))
    lengths = np.array([4, 7, 1])
    x = np.random.default_rng(0).normal(size=(3, 11, 2)).astype(np.float32)  # garbage, not zeros, past the ends
    batched = np.asarray(call(model, x, lengths))
    alone = np.concatenate([np.asarray(call(model, x[i:i + 1, :n], np.array([n]))) for i, n in enumerate(lengths)])
    np.testing.assert_allclose(batched, alone, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------------- a run


def test_run_beats_chance_and_writes_its_evaluation(run):
    s = run.metrics["summary"]
    assert s["accuracy"] >= 0.9 and s["n_test"] == 18 and s["classes"] == 2
    assert set(run.metrics["per_class_accuracy"]) == {"fall", "rise"}
    assert "accuracy_1nn_euclidean" not in s  # variable lengths: the notes say why the 1-NN baselines are skipped
    assert any("differ in length" in n for n in run.metrics["notes"])
    assert "Test accuracy" in s["headline"] and (run.path / "figures" / "confusion.png").exists()
    titles = [t["title"] for t in run.metrics["tables"]]
    assert titles[:2] == ["Test accuracy", "Confusion matrix"]
    assert (run.path / "report.html").exists()


def test_predict_gives_probabilities_and_reads_nan_tails_as_shorter_series(run):
    rows = ramps(5, 9)
    spec = json.loads((run.path / "model" / "spec.json").read_text())
    assert spec["classes"] == ["fall", "rise"]
    x = np.full((5, 20), np.nan)
    for i, (_, v) in enumerate(rows):
        x[i, :len(v)] = v
    p = run.predict(x)
    assert p.shape == (5, 2) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)
    alone = np.concatenate([run.predict(v[None, :]) for _, v in rows])
    np.testing.assert_allclose(p, alone, atol=1e-5)
    assert [spec["classes"][k] for k in p.argmax(1)] == [lab for lab, _ in rows]
    for bad in (np.ones((2, 5, 3)), np.ones(5)):
        with pytest.raises(ValueError, match="this classifier takes"):
            run.predict(bad)


def test_cli_predict_writes_class_probabilities(run, tmp_path, capsys):
    x = np.stack([v[:10] for _, v in ramps(4, 11)])
    np.savetxt(tmp_path / "s.csv", x, delimiter=",")
    assert main(["predict", str(run.path), "--points", str(tmp_path / "s.csv"), "--out", str(tmp_path / "p.npy")]) == 0
    p = np.load(tmp_path / "p.npy")
    np.testing.assert_allclose(p, run.predict(x), atol=1e-6)
    assert p.shape == (4, 2) and "shape (4, 2)" in capsys.readouterr().out


def test_cli_predict_reads_nan_tails_and_refuses_inner_gaps(run, tmp_path, capsys):
    rows = ramps(3, 13)
    x = np.full((3, 20), np.nan)
    for i, (_, v) in enumerate(rows):
        x[i, :len(v)] = v
    np.save(tmp_path / "s.npy", x)
    assert main(["predict", str(run.path), "--points", str(tmp_path / "s.npy"), "--out", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), run.predict(x), atol=1e-6)
    x[0, 1] = np.nan  # a gap inside a series, not a tail
    np.save(tmp_path / "g.npy", x)
    capsys.readouterr()
    assert main(["predict", str(run.path), "--points", str(tmp_path / "g.npy"), "--out", str(tmp_path / "q.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert "row 1" in err and "step 2" in err and len(err.splitlines()) == 1 and not (tmp_path / "q.npy").exists()


def test_baselines_match_a_brute_force_nearest_neighbour():
    from pinngen.sequence.classify_experiment import Config
    from pinngen.sequence.classify_report import _baselines

    rng = np.random.default_rng(5)
    xtr, xte = rng.normal(size=(9, 6, 1)), rng.normal(size=(7, 6, 1))
    ytr, yte = rng.integers(0, 2, 9), rng.integers(0, 2, 7)
    summary, notes = {}, []
    rows = _baselines(Config(), xtr, np.full(9, 6), ytr, xte, np.full(7, 6), yte, summary, notes)
    nn = ytr[[int(np.argmin([np.sum((a - b) ** 2) for b in xtr[..., 0]])) for a in xte[..., 0]]]
    assert summary["accuracy_1nn_euclidean"] == np.mean(nn == yte) and len(rows) == 2 and not notes
    assert 0.0 <= summary["accuracy_1nn_dtw"] <= 1.0


@pytest.mark.parametrize("name", ["gunpoint-lstm", "gunpoint-transformer", "italypower-transformer",
                                  "classify_own_series.yaml"])
def test_builtin_experiments_and_the_example_yaml_validate(name):
    examples = Path(__file__).resolve().parents[2] / "examples"
    cfg = load_config(examples / name if name.endswith(".yaml") else name)
    assert cfg.kind == "sequence-classify"
