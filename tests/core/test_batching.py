"""Batch samplers: permutations, random windows over one sequence, padded sequences with masks, streaming."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.batching import Padded, Permutation, Windows, pad_sequences
from pinngen.core.nn import MLP
from pinngen.core.train import TrainConfig, fit


def test_windows_are_slices_with_targets_shifted_by_one():
    seq = np.arange(1000, dtype=np.float32)[:, None] * np.array([[1.0, -1.0]], np.float32)  # (N, 2)
    s = Windows(batch_size=4, length=16)
    n = s.check({"x": seq})
    starts = s.host_inputs(n, seed=0, phase=0, start=0, count=3)
    assert starts.shape == (3, 4) and starts.min() >= 0 and starts.max() <= 1000 - 16 - 1
    batch = s.gather({"x": jnp.asarray(seq)}, jnp.asarray(starts[1]))
    assert batch["x"].shape == (4, 16, 2) and batch["y"].shape == (4, 16, 2)
    np.testing.assert_array_equal(batch["x"][:, :, 0], starts[1][:, None] + np.arange(16))
    np.testing.assert_array_equal(batch["y"], seq[starts[1][:, None] + np.arange(16) + 1])
    host = s.host_gather({"x": seq}, starts[1])
    np.testing.assert_array_equal(host["x"], batch["x"])
    # a function of (seed, phase, step) only: the same steps drawn in another chunking agree
    np.testing.assert_array_equal(s.host_inputs(n, 0, 0, 1, 2), starts[1:])
    assert not np.array_equal(s.host_inputs(n, 1, 0, 0, 3), starts)
    with pytest.raises(ValueError, match="too short"):
        Windows(batch_size=2, length=16).check({"x": np.zeros(10)})


def test_padded_sequences_get_masks():
    seqs = [np.ones((n, 3)) * n for n in (2, 5, 3, 1)]
    x, lengths = pad_sequences(seqs)
    assert x.shape == (4, 5, 3) and lengths.tolist() == [2, 5, 3, 1]
    assert np.all(x[0, 2:] == 0) and np.all(x[1] == 5)
    s = Padded(batch_size=2)
    data = {"x": x, "length": lengths}
    idx = s.host_inputs(s.check(data), seed=0, phase=0, start=0, count=2)
    b = s.gather(jax.tree_util.tree_map(jnp.asarray, data), jnp.asarray(idx[0]))
    np.testing.assert_array_equal(b["mask"], np.arange(5)[None, :] < lengths[idx[0]][:, None])
    with pytest.raises(ValueError, match="disagree on their feature shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="needs data\\['length'\\]"):
        Padded(batch_size=2).check({"x": x})


def test_permutation_draws_fresh_minibatches_for_each_inner_update():
    s = Permutation(batch_size=10, batches=3)
    idx = s.host_inputs(60, seed=0, phase=0, start=0, count=2)
    assert idx.shape == (2, 3, 10) and len(np.unique(idx)) == 60  # two steps of 30 cover one epoch


def _seq_model_terms(model, batch, key):
    # next-value prediction over windows: (B, L, 1) -> (B, L, 1)
    pred = jax.vmap(model)(batch["x"])
    return {"mse": jnp.mean((pred - batch["y"]) ** 2)}


def test_windows_train_and_streaming_equals_on_device():
    t = np.linspace(0, 60, 3000, dtype=np.float32)
    seq = np.sin(t)[:, None]
    net = MLP(in_size=1, out_size=1, hidden=[16], activation="tanh", key=jax.random.PRNGKey(0))
    runs = {}
    for stream in (False, True):
        cfg = TrainConfig(phases=[dict(steps=60, lr=1e-2, batch_size=8)], eval_every=20, progress=False,
                          batching=dict(sampler="windows", length=32, stream=stream))
        _, h = fit(net, {"x": seq}, cfg, loss_terms=_seq_model_terms, seed=1)
        runs[stream] = h.column("loss")
    assert runs[False][-1] < 0.5 * runs[False][0]
    np.testing.assert_allclose(runs[True], runs[False], rtol=1e-5)


def test_padded_sampler_masks_reach_the_loss():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 1)).astype(np.float32) for n in rng.integers(3, 12, 40)]
    x, lengths = pad_sequences(seqs)
    data = {"x": x, "length": lengths}

    def masked_mean(model, batch, key):
        m = batch["mask"][..., None]
        pred = jax.vmap(model)(batch["x"])
        return {"mse": jnp.sum(m * (pred - batch["x"]) ** 2) / jnp.sum(m)}

    net = MLP(in_size=1, out_size=1, hidden=[8], activation="tanh", key=jax.random.PRNGKey(0))
    cfg = TrainConfig(phases=[dict(steps=40, lr=1e-2, batch_size=8)], eval_every=20, progress=False,
                      batching=dict(sampler="padded"))
    _, h = fit(net, data, cfg, loss_terms=masked_mean)
    loss = h.column("loss")
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0]
