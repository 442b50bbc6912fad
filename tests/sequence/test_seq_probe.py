"""The vanishing-gradient probe and the ``gradient-probe`` kind (``vanishing-gradient`` experiment)."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError
from pinngen.registry import get_kind
from pinngen.runs import precision
from pinngen.sequence.probe import adding_problem, gradient_by_lag, probe_models
from pinngen.sequence.recurrent import SequenceModel


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    x, y = adding_problem(jax.random.PRNGKey(0), 50, 10)
    x, y = np.asarray(x), np.asarray(y)
    assert x.shape == (50, 10, 2) and y.shape == (50, 1)
    marks = x[..., 1]
    assert np.all(marks[:, :5].sum(1) == 1) and np.all(marks[:, 5:].sum(1) == 1)
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(1), rtol=1e-6)


def test_gradient_by_lag_matches_central_differences_in_float64():
    with precision("float64"):
        model = SequenceModel(in_size=2, hidden_size=4, out_size=1, cell="gru", key=jax.random.PRNGKey(1),
                              dtype=jnp.float64)
        x, y = adding_problem(jax.random.PRNGKey(2), 1, 6, jnp.float64)
        g = gradient_by_lag(model, x, y)

        def loss(xx):
            return float(jnp.sum(jnp.square(model.many_to_one(xx) - y)))

        eps = 1e-6
        for lag in (0, 2, 5):
            t = 6 - 1 - lag
            fd = [(loss(x.at[0, t, j].add(eps)) - loss(x.at[0, t, j].add(-eps))) / (2 * eps) for j in range(2)]
            np.testing.assert_allclose(g[lag], np.linalg.norm(fd), rtol=1e-6)


def test_the_rnn_gradient_vanishes_far_faster_than_the_lstm_gradient_at_init():
    x, y = adding_problem(jax.random.PRNGKey(3), 32, 40)
    models = probe_models(("rnn", "lstm"), in_size=2, hidden_size=16, key=jax.random.PRNGKey(4))
    g = {c: gradient_by_lag(models.models[c], x, y) for c in models.names}
    assert g["rnn"].shape == (40,)
    assert g["lstm"][30] > 100 * g["rnn"][30]
    assert g["rnn"][30] < 1e-3 * g["rnn"][0]  # geometric decay with the lag


def test_probe_models_keep_the_callers_order_and_reject_repeats():
    models = probe_models(("rnn", "lstm", "gru"), in_size=2, hidden_size=3, key=jax.random.PRNGKey(0))
    x, _ = adding_problem(jax.random.PRNGKey(1), 4, 5)
    y = models.predict(x)
    np.testing.assert_allclose(y[:, 2:3], models.models["gru"].many_to_one(x), rtol=1e-6)
    with pytest.raises(ValueError, match="at most once"):
        probe_models(("rnn", "rnn"), in_size=2, hidden_size=3, key=jax.random.PRNGKey(0))


SMALL = ["data.length=12", "data.n_train=64", "data.n_probe=16", "model.hidden=8", "evaluation.lag=8",
         "train.eval_every=10", "train.phases.0.steps=20", "train.phases.0.batch_size=16"]


def test_the_experiment_writes_the_figure_the_numbers_per_lag_and_the_ratios(tmp_path):
    run = pinngen.run("vanishing-gradient", overrides=SMALL, out=tmp_path / "run", progress=False)
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    s = m["summary"]
    assert (tmp_path / "run" / "figures" / "gradient_by_lag.png").exists()
    for stage in ("init", "trained"):
        for c in ("rnn", "lstm", "gru"):
            assert len(m["gradient_by_lag"][stage][c]) == 12
        assert s[f"ratio_lstm_rnn_lag8_{stage}"] == pytest.approx(
            m["gradient_by_lag"][stage]["lstm"][8] / m["gradient_by_lag"][stage]["rnn"][8])
    assert "for the Elman RNN" in s["headline"] and "LSTM" in s["headline"]
    x, _ = adding_problem(jax.random.PRNGKey(9), 2, 12)
    y = run.predict(np.asarray(x))  # through the saved checkpoint: weights reloaded into the template
    assert y.shape == (2, 3) and np.all(np.isfinite(y))
    assert s["probe_mse_rnn"] >= 0 and s["probe_mse_predict_mean"] > 0


def test_bad_config_and_inputs_are_one_line_errors():
    with pytest.raises(ConfigError, match="evaluation.lag=50"):
        pinngen.run("vanishing-gradient", overrides=["data.length=20"], progress=False, out=None)
    kind = get_kind("gradient-probe")
    with pytest.raises(ValueError, match=r"\(n, T, 2\)"):
        kind.predict(None, {"dtype": "float32"}, np.zeros((3, 4)))
