"""Recurrent cells and models: the scan against plain loops and Equinox's cells, masks, gates, gradients."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.sequence.recurrent import SequenceModel, last_valid, lengths_to_mask
from pinngen.sequence.rnn import ElmanCell, GRUCell, LSTMCell, make_cell, recur

B, T, F, H = 3, 7, 2, 5


def _x(seed=0, shape=(B, T, F)):
    return jax.random.normal(jax.random.PRNGKey(seed), shape)


def test_elman_scan_matches_a_numpy_loop_of_the_lecture_equation():
    cell = ElmanCell(F, H, key=jax.random.PRNGKey(1))
    x = _x()
    hs, final, _ = recur(cell, x)
    W_xh, W_hh, b_h = (np.asarray(a, np.float64) for a in (cell.W_xh, cell.W_hh, cell.b_h))
    h = np.zeros((B, H))
    ref = []
    for t in range(T):  # h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)
        h = np.tanh(np.asarray(x[:, t], np.float64) @ W_xh.T + h @ W_hh.T + b_h)
        ref.append(h)
    np.testing.assert_allclose(hs, np.stack(ref, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(final, ref[-1], rtol=1e-5, atol=1e-6)


def _eqx_loop(cell, x, state):
    states = []
    for t in range(x.shape[1]):  # a plain Python loop, one sequence at a time through vmap
        state = jax.vmap(cell)(x[:, t], state)
        states.append(state[0] if isinstance(state, tuple) else state)
    return jnp.stack(states, 1)


def test_lstm_matches_equinox_lstm_cell_with_copied_weights():
    ours = LSTMCell(F, H, key=jax.random.PRNGKey(2))
    theirs = eqx.nn.LSTMCell(F, H, key=jax.random.PRNGKey(0))
    theirs = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh, c.bias), theirs, (ours.W_x, ours.W_h, ours.b))
    x = _x(3)
    hs, (h, c), _ = recur(ours, x)
    ref = _eqx_loop(theirs, x, (jnp.zeros((B, H)), jnp.zeros((B, H))))
    np.testing.assert_allclose(hs, ref, rtol=1e-5, atol=1e-6)


def test_gru_matches_equinox_gru_cell_with_copied_weights():
    ours = GRUCell(F, H, key=jax.random.PRNGKey(4))
    theirs = eqx.nn.GRUCell(F, H, key=jax.random.PRNGKey(0))
    theirs = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh, c.bias, c.bias_n), theirs,
                         (ours.W_x, ours.W_h, ours.b, ours.b_hn))
    x = _x(5)
    hs, _, _ = recur(ours, x)
    np.testing.assert_allclose(hs, _eqx_loop(theirs, x, jnp.zeros((B, H))), rtol=1e-5, atol=1e-6)


def test_reverse_scan_equals_forward_scan_of_the_flipped_sequence():
    cell = GRUCell(F, H, key=jax.random.PRNGKey(6))
    x = _x(7)
    hb, _, _ = recur(cell, x, reverse=True)
    hf, _, _ = recur(cell, x[:, ::-1])
    np.testing.assert_allclose(hb, hf[:, ::-1], rtol=1e-6, atol=1e-6)


def test_lstm_gates_are_returned_in_range_and_consistent_with_the_states():
    cell = LSTMCell(F, H, key=jax.random.PRNGKey(8))
    hs, _, gates = recur(cell, _x(9), return_gates=True)
    assert set(gates) == {"input", "forget", "candidate", "output", "c", "h"}
    for name in ("input", "forget", "output"):
        assert gates[name].shape == (B, T, H) and np.all((gates[name] > 0) & (gates[name] < 1))
    np.testing.assert_allclose(gates["h"], hs)
    np.testing.assert_allclose(hs, gates["output"] * np.tanh(gates["c"]), rtol=1e-5, atol=1e-6)
    assert np.mean(gates["forget"]) > 0.6  # forget bias 1: the cell starts by remembering


@pytest.mark.parametrize("cell,bidirectional", [("rnn", False), ("lstm", True), ("gru", False)])
def test_many_to_one_of_padded_sequences_equals_the_unpadded_ones(cell, bidirectional):
    model = SequenceModel(in_size=F, hidden_size=H, out_size=2, cell=cell, layers=2, bidirectional=bidirectional,
                          key=jax.random.PRNGKey(10))
    x = _x(11)
    lengths = jnp.array([T, 4, 2])
    x_noisy = jnp.where(lengths_to_mask(lengths, T)[..., None], x, 99.0)  # padding must not matter
    y = model.many_to_one(x_noisy, lengths=lengths)
    for i, n in enumerate(np.asarray(lengths)):
        alone = model.many_to_one(x[i:i + 1, :n])
        np.testing.assert_allclose(y[i], alone[0], rtol=1e-5, atol=1e-6)


def test_last_valid_picks_the_last_real_step():
    hs = jnp.arange(2 * 4 * 1, dtype=jnp.float32).reshape(2, 4, 1)
    np.testing.assert_array_equal(last_valid(hs, jnp.array([2, 4])), [[1.0], [7.0]])
    np.testing.assert_array_equal(last_valid(hs), [[3.0], [7.0]])


@pytest.mark.parametrize("cell,bidirectional", [("rnn", False), ("lstm", True), ("gru", False)])
def test_shapes_jit_and_gradients_reach_every_parameter(cell, bidirectional):
    model = SequenceModel(in_size=F, hidden_size=H, out_size=3, cell=cell, layers=2, bidirectional=bidirectional,
                          key=jax.random.PRNGKey(12))
    x = _x(13)
    y = eqx.filter_jit(lambda m, a: m(a))(model, x)
    assert y.shape == (B, T, 3)
    np.testing.assert_allclose(y, model(x), rtol=1e-5, atol=1e-6)  # compiled and eager agree

    def loss(m):
        return jnp.mean(m(x) ** 2) + jnp.mean(m.many_to_one(x) ** 2)

    grads = eqx.filter_jit(jax.grad(loss))(model)
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
        assert np.all(np.isfinite(g)) and np.any(g != 0), jax.tree_util.keystr(path)


def test_one_elman_layer_is_the_lecture_network_with_three_shared_matrices():
    model = SequenceModel(in_size=F, hidden_size=H, out_size=1, cell="rnn", key=jax.random.PRNGKey(14))
    layer = model.layers[0].cell
    assert layer.W_xh.shape == (H, F) and layer.W_hh.shape == (H, H) and model.W_hy.shape == (1, H)
    x = _x(15)
    hs, _, _ = recur(layer, x)
    np.testing.assert_allclose(model(x), hs @ model.W_hy.T + model.b_y, rtol=1e-6)
    gates = model.gates(x)
    assert len(gates) == 1 and gates[0]["h"].shape == (B, T, H)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(ValueError, match="cell='lstmm'"):
        make_cell("lstmm", 2, 3, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="hidden_size=0"):
        LSTMCell(2, 0, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        recur(ElmanCell(2, 3, key=jax.random.PRNGKey(0)), jnp.zeros((4, 2)))
