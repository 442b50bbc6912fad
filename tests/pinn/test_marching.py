"""Time marching: window problems, the piecewise model, the soft initial condition handed from window to
window, merged histories diagnosed window by window, and the run end to end (API and CLI)."""

import json
import subprocess
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinngen
from pinngen.config import ConfigError
from pinngen.core.history import History
from pinngen.pinn import marching
from pinngen.pinn.experiment import predict_all
from pinngen.pinn.network import PINN
from pinngen.pinn.problems import get_problem


def _constant_net(problem, value):
    net = PINN(problem, hidden=[4], key=jax.random.PRNGKey(0), hard=False)
    last = net.net.layers[-1]
    net = eqx.tree_at(lambda m: m.net.layers[-1].weight, net, jnp.zeros_like(last.weight))
    return eqx.tree_at(lambda m: m.net.layers[-1].bias, net, jnp.full_like(last.bias, value))


def test_window_problems_cover_the_interval_and_hand_over_the_initial_condition():
    p = get_problem("allen_cahn", hard=True, periodic_bc=True, nx=32, nt=11)
    b = marching.edges(p, 4)
    np.testing.assert_allclose(b, [0.0, 0.25, 0.5, 0.75, 1.0])
    w0 = marching.window_problem(p, 0, b)
    assert w0.transform is p.transform and [c.name for c in w0.conditions] == ["periodic"]
    w2 = marching.window_problem(p, 2, b, ic_value=lambda c: 3.0 * c["x"], n_ic=16)
    assert w2.transform is None and [c.name for c in w2.conditions] == ["periodic", "ic"]
    assert (w2.geometry.t0, w2.geometry.t1) == (0.5, 0.75)
    pts = w2.geometry.sample_interior(100, method="uniform", rng=np.random.default_rng(0))
    assert pts[:, 1].min() >= 0.5 and pts[:, 1].max() <= 0.75
    ic = w2.condition("ic")
    x = ic.sample(16, "sobol", np.random.default_rng(0))
    np.testing.assert_allclose(x[:, 1], 0.5)
    np.testing.assert_allclose(ic.prepare(x)["value"][:, 0], 3.0 * x[:, 0])


def test_marching_model_takes_each_point_from_its_window():
    p = get_problem("heat", hard=False)
    b = marching.edges(p, 3)
    nets = tuple(_constant_net(marching.window_problem(p, k, b), float(k + 1)) for k in range(3))
    m = marching.Marching(models=nets, problem=p, bounds=b)
    t1, t2 = b[1], b[2]
    x = jnp.array([[0.3, 0.0], [0.3, t1 - 1e-3], [0.3, t1], [0.3, t2 + 1e-3], [0.3, 1.0]])
    np.testing.assert_allclose(np.asarray(m(x))[:, 0], [1, 1, 2, 3, 3])


def test_train_hands_each_window_the_previous_prediction():
    p = get_problem("heat", hard=False)
    spec = marching.MarchingSpec(windows=3, n_ic=8, warm_start=False)
    model = marching.build(p, spec, lambda wp, k: _constant_net(wp, 0.0))
    seen = []

    def fit_window(k, wp, net):
        if k > 0:
            ic = wp.condition("ic")
            x = ic.sample(8, "sobol", np.random.default_rng(0))
            seen.append((k, x, ic.prepare(x)["value"][:, 0]))
        h = History()
        h.extend(np.arange(5), "adam", {"loss": np.linspace(1.0, 0.5, 5), "time": np.arange(5.0)})
        return _constant_net(wp, 10.0 * (k + 1)), h

    trained, history = marching.train(model, spec, fit_window, predict_all)
    assert [k for k, *_ in seen] == [1, 2]
    for k, x, value in seen:
        np.testing.assert_allclose(x[:, 1], model.bounds[k])
        np.testing.assert_allclose(value, 10.0 * k)  # window k-1's network, not a fresh one
    assert len(history) == 15 and list(history.steps) == list(range(15))
    assert history.phases[0] == "w1/adam" and history.phases[-1] == "w3/adam"
    assert np.nanmax(history.column("time")) == pytest.approx(12.0)
    assert history.meta["windows"] == 3
    np.testing.assert_allclose(np.asarray(trained(jnp.array([[0.2, 0.9]])))[0, 0], 30.0)


def test_diagnosis_is_per_window():
    h = History()
    h.meta = {"windows": 2, "phases": []}
    n = 400
    for k in (1, 2):
        loss = 10.0 ** (k - 1) * np.exp(-np.linspace(0, 5, n))  # window 2 starts 10x higher than window 1 ends
        h.extend(np.arange(n) + (k - 1) * n, f"w{k}/adam", {"loss": loss})
    findings = h.diagnose()
    assert not [f for f in findings if f.code in ("jumps", "unstable", "diverged")]
    assert findings and all(f.message.startswith("Window ") for f in findings)
    flat = History()
    flat.extend(np.arange(2 * n), "adam", {"loss": np.concatenate([np.exp(-np.linspace(0, 5, n)),
                                                                    10 * np.exp(-np.linspace(0, 5, n))])})
    assert [f for f in flat.diagnose() if f.code in ("jumps", "unstable", "diverged")]  # as one training


def _tiny(problem, **extra):
    cfg = {"kind": "pinn", "name": "march", "problem": problem, "network": {"hidden": [8, 8]},
           "collocation": {"n_domain": 64, "n_boundary": 8, "n_initial": 8},
           "evaluation": {"metric_points": 256}, "marching": {"windows": 2, "n_ic": 16},
           "train": {"eval_every": 10, "progress": False,
                     "phases": [{"optimizer": "adam", "steps": 20}, {"optimizer": "lbfgs", "steps": 5}]}}
    cfg.update(extra)
    return cfg


def test_marching_run_end_to_end(tmp_path):
    run = pinngen.run(_tiny("heat", options={"hard": False}, weighting={"weights": {"ic": 10.0}}),
                      out=tmp_path / "m", progress=False)
    m = run.metrics
    assert m["summary"]["windows"] == 2 and np.isfinite(m["summary"]["rel_l2"])
    assert not [k for k in m["summary"] if k.startswith("time_to_")]  # the curve is per window, not the whole
    assert [p["window"] for p in m["phases"]] == [1, 1, 2, 2]
    assert {"w1/adam", "w1/lbfgs", "w2/adam", "w2/lbfgs"} == set(run.history.phases)
    assert all(marching.finished(tmp_path / "m" / "checkpoint" / f"window{k}") for k in (1, 2))
    spec = json.loads((tmp_path / "m" / "model" / "spec.json").read_text())
    assert spec["marching"]["windows"] == 2
    model = run.model
    assert isinstance(model, marching.Marching) and len(model.models) == 2
    pts = np.array([[0.5, 0.1], [0.5, 0.9]])
    u = run.predict(pts)
    np.testing.assert_allclose(u, predict_all(model, pts)[:, 0], rtol=1e-6)
    # the two windows are different networks: each point is answered by its own
    w1, w2 = (predict_all(net, pts)[:, 0] for net in model.models)
    np.testing.assert_allclose(u, [w1[0], w2[1]], rtol=1e-6)
    # --resume after a crash in window 2: window 1 is loaded, not retrained; the result is the same
    (tmp_path / "m" / "checkpoint" / "window2" / "final" / "history.meta.json").unlink()
    again = pinngen.run(_tiny("heat", options={"hard": False}, weighting={"weights": {"ic": 10.0}}),
                        out=tmp_path / "m", progress=False, resume=True)
    np.testing.assert_allclose(again.predict(pts), u, rtol=1e-5)
    assert len(again.history) == len(run.history)


def test_marching_rejects_what_it_cannot_do(tmp_path):
    with pytest.raises(ConfigError, match="no time input"):
        pinngen.run(_tiny("poisson"), out=tmp_path / "a", progress=False)
    with pytest.raises(ConfigError, match="unknown parameters|observations"):
        pinngen.run(_tiny("burgers_inverse", options={"n_observations": 50}), out=tmp_path / "b", progress=False)
    with pytest.raises(ConfigError, match="hard: false"):
        pinngen.run(_tiny("heat", options={"hard": True}), out=tmp_path / "c", progress=False)
    with pytest.raises(ConfigError, match="initial rates"):
        pinngen.run(_tiny("wave"), out=tmp_path / "c2", progress=False)
    with pytest.raises(ConfigError, match="unknown term"):
        pinngen.run(_tiny("heat", options={"hard": False}, weighting={"weights": {"icc": 1.0}}), out=tmp_path / "d",
                    progress=False)
    code = "import sys; from pinngen.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "run", "poisson", "--set", "marching.windows=3",
                           "--out", str(tmp_path / "e")], capture_output=True, text=True)
    assert done.returncode == 2 and "marching" in done.stderr and "Traceback" not in done.stderr


def test_findings_shared_by_windows_are_one_statement_ranked_by_reach():
    h = History()
    h.meta = {"windows": 4, "phases": []}
    n = 400
    for k in (1, 2, 3, 4):
        # windows 1, 2 and 4 still falling steeply at the end; window 3 flat (converged)
        loss = 0.1 + np.exp(-np.linspace(0, 40, n)) if k == 3 else np.linspace(1.0, 0.2, n)
        h.extend(np.arange(n) + (k - 1) * n, f"w{k}/adam", {"loss": loss})
    findings = h.diagnose()
    codes = [f.code for f in findings]
    assert len(codes) == len(set(codes))  # one finding per code
    learning = next(f for f in findings if f.code == "still_learning")
    assert learning.message.startswith("Window 1 (and windows 2, 4 alike: 3 of 4 windows): ")
    assert next(f for f in findings if f.code == "converged").message.startswith("Window 3: ")



def test_per_window_diagnosis_knows_each_windows_redraws():
    # Each window redraws its points every 150 steps: the loss jumps there (new points) and decays again, which
    # is no jump. Window 2's steps continue the run's (it starts at 400), so its redraws are at 550 in run steps.
    ctx, n, parts = {"data_redraw_every": 150}, 400, []
    rng = np.random.default_rng(0)
    for _ in (1, 2):
        k = np.arange(n)
        loss = np.exp(-np.linspace(0, 5, n) + 0.05 * rng.standard_normal(n))
        loss *= np.where(k >= 150, 1 + 29 * np.exp(-(k - 150) / 10.0), 1.0)
        h = History()
        h.meta = {"context": ctx, "phases": []}
        h.extend(k, "ssbroyden", {"loss": loss, "time": k.astype(float)})
        parts.append(h)
    merged = marching.merge_histories(parts)
    assert merged.meta["context"] == ctx and list(merged.steps[n - 1 : n + 1]) == [n - 1, n]
    assert not [f for f in merged.diagnose(context=merged.meta["context"]) if f.code == "jumps"]
    # without the redraw period they are jumps: the message counts the window's steps, .step the run's
    del merged.meta["context"]
    jumps = [f for f in merged.diagnose() if f.code == "jumps"]
    assert len(jumps) == 1 and jumps[0].step == 150 and "at step 150" in jumps[0].message
    assert jumps[0].message.startswith("Window 1 (and window 2 alike")
