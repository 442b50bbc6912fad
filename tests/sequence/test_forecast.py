"""The ``forecast`` kind: held-out scores and baselines, original units, predict and the CLI, bad input."""

import json
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen.cli import main as cli_main
from pinngen.config import ConfigError, load_config
from pinngen.registry import get_kind
from pinngen.sequence.forecast_model import rollout

ROOT = Path(__file__).resolve().parents[2]
PERIOD, N = 12, 240


def _write_series(path, values, start="2000-01", dates=None):
    if dates is None:
        dates = np.arange(np.datetime64(start, "M"), np.datetime64(start, "M") + len(values))
    lines = ["date,level"] + [f"{d},{v:.17g}" for d, v in zip(dates, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _sine():
    t = np.arange(N)
    return 100.0 + 10.0 * np.sin(2 * np.pi * t / PERIOD)  # noiseless, period 12, far from zero mean


def _config(path, **model):
    return {"kind": "forecast", "name": "sine", "seed": 0,
            "data": {"source": str(path), "test": 12, "lookback": 24, "horizon": 6, "val": 6},
            "model": {"arch": "gru", "patch": 6, "hidden": 16, "linear": 2, "noise": 0.05, **model},
            "evaluation": {"season": PERIOD, "ar_order": 4},
            "train": {"eval_every": 100, "chunk": 100, "progress": False, "checkpoint_every": None,
                      "phases": [{"optimizer": "adam", "lr": 0.01, "steps": 300, "batch_size": 32}]}}


@pytest.fixture(scope="module")
def sine_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("forecast")
    path = _write_series(d / "sine.csv", _sine())
    return pinngen.run(_config(path), out=d / "run", progress=False), d


def test_run_writes_scores_baselines_intervals_and_figures(sine_run):
    run, _ = sine_run
    s = json.loads((run.path / "metrics.json").read_text())["summary"]
    for k in ("mase", "smape", "rmse", "one_step_rmse", "seasonal_naive_mase", "seasonal_naive_smape",
              "seasonal_naive_rmse", "ar_mase", "ar_rmse", "ar_one_step_rmse", "coverage_80", "coverage_95"):
        assert np.isfinite(s[k]), k
    # a noiseless series of period 12: the seasonal naive forecast of the held-out part is exact
    assert s["seasonal_naive_mase"] < 1e-9 and s["seasonal_naive_rmse"] < 1e-9
    # the net learns the sine: its held-out error is a small fraction of the amplitude (10) in original units
    assert s["rmse"] < 2.0 and s["one_step_rmse"] < 2.0
    assert "MASE" in s["headline"]
    assert (run.path / "figures" / "forecast.png").exists() and (run.path / "figures" / "one_step.png").exists()
    rows = (run.path / "forecast.csv").read_text().splitlines()
    assert rows[0].startswith("date,level,level_forecast") and len(rows) == 13


def test_predict_unscales_exactly_with_train_only_statistics(sine_run):
    run, _ = sine_run
    train = _sine()[:N - 12]
    mean, std = train.mean(), train.std()  # the scaler is fitted on the training part only
    x = _sine()[-30:]
    z = jnp.asarray(((x[-24:] - mean) / std)[None, :, None], jnp.float32)
    want = np.asarray(run.model(z), np.float64) * std + mean  # one direct call covers the horizon of 6
    got = run.predict(x)
    assert got.shape == (1, 6, 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    truth = _sine()[np.arange(N, N + 6) % PERIOD]  # the sine continues with period 12
    assert np.max(np.abs(got[0, :, 0] - truth)) < 3.0


def test_predict_shapes_and_errors(sine_run):
    run, _ = sine_run
    x = _sine()
    one = run.predict(x[-24:])
    np.testing.assert_allclose(run.predict(x), one, rtol=1e-6)  # longer series: the last lookback values
    np.testing.assert_allclose(run.predict(x[-24:, None]), one, rtol=1e-6)
    batch = np.stack([x[-24:], x[-30:-6], x[-27:-3]])
    assert run.predict(batch).shape == (3, 6, 1)  # (n, L): rows are univariate series
    assert run.predict(batch[:, :, None]).shape == (3, 6, 1)
    with pytest.raises(ValueError, match="too short.*at least 24"):
        run.predict(x[-10:])
    with pytest.raises(ValueError, match=r"give a series \(L,\)"):
        run.predict(np.zeros((2, 30, 2)))
    with pytest.raises(ValueError, match="NaN"):
        run.predict(np.full(24, np.nan))


def test_cli_predict_reads_a_one_column_csv(sine_run, capsys):
    run, d = sine_run
    np.savetxt(d / "series.csv", _sine()[-40:], delimiter=",")
    out = d / "f.npy"
    assert cli_main(["predict", str(run.path), "--points", str(d / "series.csv"), "--out", str(out)]) == 0
    np.testing.assert_allclose(np.load(out), run.predict(_sine()[-40:]), rtol=1e-6)
    assert "(1, 6, 1)" in capsys.readouterr().out


def test_autoregressive_rollout_feeds_outputs_back():
    class Next:  # a stand-in one-step net: the last value plus one
        steps = 1

        def __call__(self, w):
            return w[:, -1:] + 1.0

    class Pair:  # two steps per call: last + 1, last + 2
        steps = 2

        def __call__(self, w):
            return w[:, -1:] + jnp.arange(1.0, 3.0)[None, :, None]

    x = jnp.zeros((2, 4, 1)).at[:, -1].set(5.0)
    np.testing.assert_array_equal(np.asarray(rollout(Next(), x, 5))[:, :, 0], [[6, 7, 8, 9, 10]] * 2)
    np.testing.assert_array_equal(np.asarray(rollout(Pair(), x, 5))[:, :, 0], [[6, 7, 8, 9, 10]] * 2)


def test_autoregressive_strategy_trains_a_one_step_head_and_forecasts_the_horizon(tmp_path):
    from pinngen.core.train import fit

    path = _write_series(tmp_path / "s.csv", _sine())
    cfg = load_config(_config(path, strategy="autoregressive"))
    kind = get_kind("forecast")
    setup = kind.setup(cfg)
    assert setup.data["y"].shape[1:] == (1, 1) and setup.spec["steps"] == 1
    model, _ = fit(setup.model, setup.data, {"phases": [{"steps": 3, "batch_size": 16}], "progress": False},
                   loss_terms=setup.loss_terms)
    y = kind.predict(model, setup.spec, _sine())
    assert y.shape == (1, 6, 1) and np.all(np.isfinite(y))


@pytest.mark.parametrize("change, match", [
    ({"data": {"horizon": 0}}, "horizon=0: forecast at least one step ahead"),
    ({"data": {"lookback": 600}}, "data.lookback: .*shorten data.lookback"),
    ({"data": {"lookback": 25}}, "model.patch: .*not a multiple"),
    ({"data": {"test": 240}}, "data.test"),
])
def test_bad_config_is_one_line(tmp_path, change, match):
    raw = _config(_write_series(tmp_path / "s.csv", _sine()))
    for section, values in change.items():
        raw[section].update(values)
    with pytest.raises(ConfigError, match=match) as err:
        get_kind("forecast").setup(load_config(raw))
    assert "\n" not in str(err.value)


def test_nan_and_gaps_in_the_series_are_one_line_errors(tmp_path):
    values = _sine()
    values[50] = np.nan
    with pytest.raises(ConfigError, match="missing or non-finite values, first at row 51"):
        get_kind("forecast").setup(load_config(_config(_write_series(tmp_path / "nan.csv", values))))
    dates = np.arange(np.datetime64("2000-01"), np.datetime64("2000-01") + N + 1)
    dates = np.delete(dates, 100)  # one month missing
    with pytest.raises(ConfigError, match="a gap in the dates"):
        get_kind("forecast").setup(load_config(_config(_write_series(tmp_path / "gap.csv", _sine(), dates=dates))))


def test_builtin_experiments_and_the_example_yaml_validate():
    for name in ("sunspots-lstm", "sunspots-transformer"):
        cfg = load_config(name)
        assert cfg.kind == "forecast" and cfg.data.source == "sunspots" and cfg.data.test == 132
    cfg = load_config(ROOT / "examples" / "forecast_own_csv.yaml")
    assert cfg.kind == "forecast" and cfg.data.source.endswith(".csv")


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_members_are_trained_apart_and_averaged(arch):
    from pinngen.sequence.forecast_model import Ensemble

    ens = Ensemble(members=3, arch=arch, features=2, lookback=8, steps=2, patch=4, hidden=8, heads=2,
                   key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (5, 8, 2))
    each, mean = (np.asarray(a) for a in eqx.filter_jit(lambda e, xx: (e.each(xx), e(xx)))(ens, x))
    assert each.shape == (3, 5, 2, 2) and not np.allclose(each[0], each[1])
    np.testing.assert_allclose(mean, each.mean(0), rtol=1e-5, atol=1e-6)


def test_linear_one_step_component_starts_at_the_least_squares_ar_fit(tmp_path):
    # a noiseless sine obeys x[t] = 2 cos(w) x[t-1] - x[t-2] exactly: the AR(2) least-squares fit recovers it
    setup = get_kind("forecast").setup(load_config(_config(_write_series(tmp_path / "s.csv", _sine()))))
    skip = setup.model.nets.skip
    w = 2 * np.pi / PERIOD
    for m in range(skip.weight.shape[0]):
        np.testing.assert_allclose(np.asarray(skip.weight[m, 0]), [-1.0, 2 * np.cos(w)], atol=1e-4)
        assert abs(float(skip.bias[m, 0])) < 1e-4
