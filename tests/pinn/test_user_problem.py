"""A user's own PDE from the CLI (``problem: file.py:factory``), observations from a file, and the run's seed
driving a library problem's data draws."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import pinngen
from pinngen.cli import main
from pinngen.config import ConfigError, load_config
from pinngen.pinn.experiment import setup

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pinn_own"

POISSON = '''
import jax.numpy as jnp
from pinngen.pinn import Problem
from pinngen.pinn.conditions import Dirichlet
from pinngen.pinn.geometry import Interval


def make(*, k: float = 3.0):
    """u'' = -k^2 sin(k x) on [0, 1], u = sin(k x) at both ends; exact u = sin(k x)."""
    return Problem(name="mine", inputs=("x",), outputs=("u",), geometry=Interval(0.0, 1.0),
                   residual=lambda d, p: d["u_xx"] + p["k"] ** 2 * jnp.sin(p["k"] * d.coords["x"]),
                   parameters={"k": k},
                   conditions=[Dirichlet("bc", on="boundary", value=lambda c: jnp.sin(k * c["x"]))])


def broken(*, k: float = 1.0):
    x = 1
    raise RuntimeError("no such material")


def not_a_problem():
    return 42
'''

RAISE_LINE = POISSON.splitlines().index('    raise RuntimeError("no such material")') + 1

TINY = """kind: pinn
problem: {problem}
network: {{hidden: [16, 16]}}
collocation: {{n_domain: 128, n_boundary: 2}}
evaluation: {{metric_points: 64}}
train: {{phases: [{{optimizer: adam, lr: 0.01, steps: 300}}, {{optimizer: lbfgs, steps: 100}}]}}
"""


def _yaml(d: Path, problem: str) -> str:
    (d / "mine.py").write_text(POISSON)
    (d / "run.yaml").write_text(TINY.format(problem=problem))
    return str(d / "run.yaml")


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("mine")
    out = d / "run"
    assert main(["run", _yaml(d, f"{d}/mine.py:make"), "--out", str(out), "--no-progress",
                 "--set", "options.k=3.0"]) == 0
    return d, out


def _cli_error(capsys, *args) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def test_own_problem_trains_from_the_cli_and_predicts_after_reload(user_run, tmp_path, capsys):
    d, out = user_run
    run = pinngen.load(out)
    assert run.metrics["summary"]["residual_rms"] < 0.5  # no reference: the residual on random points
    x = np.linspace(0.0, 1.0, 9)[:, None]
    np.testing.assert_allclose(run.predict(x), np.sin(3.0 * x[:, 0]), atol=0.05)  # closed form, independent
    assert (out / "problem_source.py").read_text() == POISSON
    np.save(tmp_path / "x.npy", x)
    assert main(["predict", str(out), "--points", str(tmp_path / "x.npy"), "--out", str(tmp_path / "y.npy")]) == 0


def test_a_changed_problem_file_is_refused_on_reload(user_run, tmp_path, capsys):
    d, out = user_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    original = (d / "mine.py").read_text()
    try:
        (d / "mine.py").write_text(original + "\n# edited\n")
        np.save(tmp_path / "x.npy", np.zeros((2, 1)))
        err = _cli_error(capsys, "predict", str(copy), "--points", str(tmp_path / "x.npy"), "--out",
                         str(tmp_path / "y.npy"))
        assert "has changed since this run was trained" in err and "problem_source.py" in err
    finally:
        (d / "mine.py").write_text(original)


@pytest.mark.parametrize("target, words", [
    ("nowhere.py:make", "no such file"),
    ("{d}/mine.py:absent", "defines no function 'absent'; its functions are: broken, make, not_a_problem"),
    ("{d}/mine.py:broken", f"raised at line {RAISE_LINE}: RuntimeError: no such material"),
    ("{d}/mine.py:not_a_problem", "returned a int, not a pinngen.pinn.Problem"),
])
def test_bad_problem_files_are_one_line_errors(tmp_path, capsys, target, words):
    err = _cli_error(capsys, "run", _yaml(tmp_path, target.format(d=tmp_path)), "--out", str(tmp_path / "r"))
    assert words in err
    assert not (tmp_path / "r" / "metrics.json").exists()


def test_a_syntax_error_names_its_line_and_unknown_options_are_listed(tmp_path, capsys):
    (tmp_path / "bad.py").write_text("def make(:\n    pass\n")
    err = _cli_error(capsys, "run", _yaml(tmp_path, f"{tmp_path}/bad.py:make"), "--out", str(tmp_path / "r"))
    assert "importing it failed at line 1: SyntaxError" in err
    err = _cli_error(capsys, "run", _yaml(tmp_path, f"{tmp_path}/mine.py:make"), "--out", str(tmp_path / "r"),
                     "--set", "options.q=1")
    assert "takes no option(s) ['q']; its options are: k" in err


def _obs_config(tmp_path, table: str, **extra):
    (tmp_path / "mine.py").write_text(POISSON)
    (tmp_path / "obs.csv").write_text(table)
    return load_config({"kind": "pinn", "problem": f"{tmp_path}/mine.py:make",
                        "observations": {"path": str(tmp_path / "obs.csv"), **extra},
                        "network": {"hidden": [8]}, "collocation": {"n_domain": 16, "n_boundary": 2},
                        "train": {"phases": [{"optimizer": "adam", "steps": 1}]}})


def test_observations_from_a_csv_become_a_data_term(tmp_path):
    cfg = _obs_config(tmp_path, "u,x\n0.5,0.1\n0.25,0.9\n")
    s = setup(cfg)
    cond = [c for c in s.model.problem.conditions if c.name == "observations"][0]
    np.testing.assert_array_equal(cond.points[:, 0], [0.1, 0.9])  # columns matched by name, not position
    np.testing.assert_array_equal(cond.values[:, 0], [0.5, 0.25])
    assert "observations" in s.loss_terms(s.model, s.data, None)


@pytest.mark.parametrize("table, words", [
    ("y,u\n0.5,1\n", "no column for input(s) ['x']"),
    ("x,v\n0.5,1\n", "no column names an output"),
    ("x,u,w\n0.5,1,2\n", "unknown column(s) ['w']"),
    ("x,u\n0.5,nan\n0.2,1\n", "row 2 (and 0 more) holds NaN"),
    ("x,u\n1.5,1\n", "inside the problem's domain"),
    ("x,u\n", "no rows"),
])
def test_bad_observation_files_are_one_line_errors(tmp_path, table, words):
    with pytest.raises(ConfigError, match=None) as err:
        setup(_obs_config(tmp_path, table))
    msg = str(err.value)
    assert words in msg and "obs.csv" in msg and "\n" not in msg


def test_the_run_seed_draws_burgers_inverse_observations_and_their_noise():
    def drawn(run_seed, **options):
        cfg = load_config({"kind": "pinn", "problem": "burgers_inverse", "seed": run_seed,
                           "options": {"n_observations": 50, "noise": 0.01, **options}})
        s = setup(cfg)
        obs = s.model.problem.condition("data")
        return s.spec["options"], obs.points, obs.values

    o1, p1, v1 = drawn(1)
    o2, p2, v2 = drawn(2)
    assert o1["seed"] == 1 and o2["seed"] == 2
    assert not np.array_equal(p1, p2) and not np.array_equal(v1, v2)
    _, p3, _ = drawn(2, seed=1)  # an explicit option still wins
    np.testing.assert_array_equal(p3, p1)


def test_the_worked_examples_build(tmp_path):
    import importlib.util

    for name, factory in [("heat_lshape", "make_problem"), ("robin_poisson", "make_problem"),
                          ("diffusivity_1d", "make_problem")]:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        problem = getattr(mod, factory)()
        assert problem.residual_names
    mod.write_measurements(str(tmp_path / "obs.csv"), n=20)
    cfg = load_config(str(EXAMPLES / "diffusivity_1d.yaml"))
    obs = cfg.observations.model_copy(update={"path": str(tmp_path / "obs.csv")})
    cfg = cfg.model_copy(update={"problem": f"{EXAMPLES}/diffusivity_1d.py:make_problem", "observations": obs})
    s = setup(cfg)
    assert "observations" in s.loss_terms(s.model, s.data, None)
