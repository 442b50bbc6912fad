"""Hostile input, property-based (hypothesis), for the files a run writes and reads back: model and training
checkpoints, and whole run folders given to ``pinngen predict``/``evaluate``/``report``. Every case ends in the
library's own one-line error or a valid result, never another exception, a hang or unbounded memory. Settings and
helpers are shared with test_fuzz_readers.py (tests/fuzz_helpers.py)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz_helpers import FUZZ, expect, mutate, one_line
from pinngen.core.checkpoint import CheckpointError

# ---- checkpoints -----------------------------------------------------------------------------------------


def _template():
    import jax.numpy as jnp

    return {"w": jnp.zeros((3, 2), jnp.float32), "b": jnp.zeros((2,), jnp.float32), "n": 4}


@FUZZ
@given(data=st.data())
def test_model_checkpoint_bytes_on_hostile_input(data):
    import jax.numpy as jnp

    from pinngen.core.checkpoint import tree_from_bytes, tree_to_bytes

    tree = {"w": jnp.ones((3, 2)), "b": jnp.arange(2.0), "n": 4}
    choice = data.draw(st.sampled_from(["mutate", "dtype", "shape", "count", "random"]))
    if choice == "mutate":
        raw = mutate(tree_to_bytes(tree), data.draw)
    elif choice == "random":
        raw = data.draw(st.binary(max_size=200))
    else:
        arrays = {"leaf_00000": np.arange(2.0), "leaf_00001": np.ones((3, 2))}
        if choice == "dtype":
            arrays["leaf_00001"] = np.array([["a", "b"]] * 3)
        elif choice == "shape":
            arrays["leaf_00001"] = np.ones((2, 3))
        else:
            arrays["leaf_00002"] = np.ones(1)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        raw = buf.getvalue()
    out = expect(lambda: tree_from_bytes(_template(), raw, what="model.npz"), CheckpointError, "model.npz")
    if out is not None:
        assert out["w"].shape == (3, 2) and out["w"].dtype == jnp.float32


def _npz_with_declared_shape(shape) -> bytes:
    """An .npz whose one member's header declares ``shape`` but holds 16 bytes."""
    header = {"descr": "<f8", "fortran_order": False, "shape": tuple(shape)}
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, header)
    member.write(b"\x00" * 16)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("leaf_00000.npy", member.getvalue())
    return buf.getvalue()


@pytest.mark.parametrize("shape", [(2**40,), (2**31, 2**31), (2**62, 4)])
def test_checkpoint_enormous_declared_size_is_refused_without_allocating(shape):
    from pinngen.core.checkpoint import tree_from_bytes

    with pytest.raises(CheckpointError) as e:
        tree_from_bytes({"w": np.zeros(2)}, _npz_with_declared_shape(shape), what="model.npz")
    one_line(e.value, "model.npz")


@pytest.fixture(scope="module")
def training_unit(tmp_path_factory):
    import jax.numpy as jnp

    from pinngen.core.checkpoint import save_training
    from pinngen.core.history import History

    d = tmp_path_factory.mktemp("ckpt")
    h = History()
    h.record(1, {"loss": 0.5})
    save_training(d, 1, {"params": {"w": jnp.ones((3, 2), jnp.float32), "b": jnp.zeros((2,), jnp.float32)}},
                  {"key": np.arange(2, dtype=np.uint32)}, {"phase": 0}, h)
    return d


@FUZZ
@given(data=st.data())
def test_training_checkpoint_on_hostile_files(training_unit, tmp_path_factory, data):
    import shutil

    from pinngen.core.checkpoint import latest, load_training

    d = tmp_path_factory.mktemp("hostile")
    shutil.copytree(training_unit, d, dirs_exist_ok=True)
    unit = latest(d)
    name = data.draw(st.sampled_from(["info.json", "arrays.npz", "history.csv"]))
    target = unit / name
    if name == "info.json" and data.draw(st.booleans()):
        info = json.loads(target.read_text())
        key = data.draw(st.sampled_from(sorted(info)))
        info[key] = data.draw(st.sampled_from([None, 1, "x", [], {}, {"arrays.npz": 3}, 2.5]))
        target.write_text(json.dumps(data.draw(st.sampled_from([info, [info], "x", None, 3]))))
    elif data.draw(st.booleans()):
        target.write_bytes(mutate(target.read_bytes(), data.draw))
    else:
        target.unlink()
    templates = {"params": _template()}
    templates["params"].pop("n")
    expect(lambda: load_training(d, templates), CheckpointError, str(d))


# ---- run folders -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory):
    from pinngen.cli import main

    out = tmp_path_factory.mktemp("runs") / "dd"
    assert main(["run", "dense-diabetes", "--out", str(out), "--set", "train.phases.0.epochs=null", "--set",
                 "train.phases.0.steps=10", "--set", "train.eval_every=10", "--no-progress"]) == 0
    return out


_RUN_FILES = ["config.yaml", "model/spec.json", "model/weights.npz", "metrics.json", "history.csv",
              "findings.json"]


@settings(FUZZ, max_examples=max(10, FUZZ.max_examples // 5))
@given(data=st.data())
def test_cli_on_hostile_run_folders(dense_run, tmp_path_factory, data, capsys):
    """``pinngen predict`` / ``diagnose`` on a run folder with one file mangled, replaced or removed: exit 0 or
    exit 2 with one line, never a traceback (and the folder is left as it was)."""
    import shutil

    from pinngen.cli import main

    d = tmp_path_factory.mktemp("hostile-run") / "dd"
    shutil.copytree(dense_run, d)
    name = data.draw(st.sampled_from(_RUN_FILES))
    target = d / name
    how = data.draw(st.sampled_from(["mutate", "garbage", "remove", "json-types"]))
    if how == "remove":
        target.unlink()
    elif how == "garbage":
        target.write_bytes(data.draw(st.binary(max_size=60)))
    elif how == "json-types" and name.endswith(".json"):
        target.write_text(json.dumps(data.draw(st.sampled_from([[], "x", None, 3, {"hidden": "x"},
                                                                 {"summary": []}]))))
    else:
        target.write_bytes(mutate(target.read_bytes(), data.draw))
    snapshot = {p: p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}
    pts = tmp_path_factory.mktemp("pts") / "p.npy"
    np.save(pts, np.zeros((2, 10)))
    capsys.readouterr()
    command = data.draw(st.sampled_from([["predict", str(d), "--points", str(pts), "--out", str(pts) + ".out.npy"],
                                         ["diagnose", str(d)], ["report", str(d)]]))
    code = main(command)
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.startswith("pinngen: error:") and "\n" not in err and "Traceback" not in err, err
    after = {p: p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}
    if command[0] == "report":  # `report` rewrites the report and re-diagnoses the curves (repairing findings)
        for name in ("report.html", "findings.json"):
            after.pop(d / name, None)
            snapshot.pop(d / name, None)
    assert after == snapshot


def test_links_out_of_a_run_folder_are_refused(dense_run, tmp_path, capsys):
    """A run folder whose model files, or a checkpoint unit, link to files outside it: one-line refusal."""
    import shutil

    from pinngen.cli import main
    from pinngen.core import checkpoint as ckpt

    d = tmp_path / "dd"
    shutil.copytree(dense_run, d)
    outside = tmp_path / "outside.npz"
    shutil.copy(d / "model" / "weights.npz", outside)
    (d / "model" / "weights.npz").unlink()
    (d / "model" / "weights.npz").symlink_to(outside)
    pts = tmp_path / "p.npy"
    np.save(pts, np.zeros((2, 10)))
    capsys.readouterr()
    assert main(["predict", str(d), "--points", str(pts), "--out", str(tmp_path / "o.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert "outside" in err and len(err.splitlines()) == 1
    # a checkpoint unit that is a link to a folder elsewhere is not a unit at all
    units = tmp_path / "ckpts"
    units.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (units / "ckpt-000000005").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert ckpt.latest(units) is None
