import jax
import numpy as np
import pytest

from pinngen.core import checkpoint as ckpt
from pinngen.core.nn import MLP


def test_model_round_trip_without_pickle(tmp_path):
    m = MLP(in_size=2, out_size=3, hidden=[5], key=jax.random.PRNGKey(0))
    ckpt.save_model(tmp_path, m, {"hidden": [5]})
    template = MLP(in_size=2, out_size=3, hidden=[5], key=jax.random.PRNGKey(99))
    back = ckpt.load_model(tmp_path, template)
    for a, b in zip(jax.tree_util.tree_leaves(m), jax.tree_util.tree_leaves(back), strict=True):
        np.testing.assert_array_equal(a, b)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as z:  # loads without pickle
        assert len(z.files) == 4
    assert ckpt.load_spec(tmp_path) == {"hidden": [5]}


def test_mismatched_template_is_a_clear_error(tmp_path):
    ckpt.save_model(tmp_path, MLP(in_size=2, out_size=3, hidden=[5], key=jax.random.PRNGKey(0)), {})
    with pytest.raises(ckpt.CheckpointError, match="shape"):
        ckpt.load_model(tmp_path, MLP(in_size=2, out_size=3, hidden=[6], key=jax.random.PRNGKey(0)))
    with pytest.raises(ckpt.CheckpointError, match="arrays"):
        ckpt.load_model(tmp_path, MLP(in_size=2, out_size=3, hidden=[5, 5], key=jax.random.PRNGKey(0)))


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path, monkeypatch):
    from pinngen.core import io

    p = tmp_path / "a.txt"
    io.atomic_write_text(p, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(io.os, "replace", boom)
    with pytest.raises(OSError):
        io.atomic_write_text(p, "new")
    assert p.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["a.txt"]
