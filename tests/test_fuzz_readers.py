"""Hostile input, property-based (hypothesis): every reader of user files ends in the library's own one-line error
(naming the file) or a valid result - never another exception, a hang or unbounded memory.

Readers: IDX (plain and gzip), series CSV, labelled-series CSV, ``pinngen predict``'s point files, YAML configs and
``--set`` overrides, model and training checkpoints. Each property runs ``PINNGEN_FUZZ_EXAMPLES`` cases (default
150, derandomized so CI is deterministic); a longer nightly-style search: ``PINNGEN_FUZZ_EXAMPLES=5000
PINNGEN_FUZZ_RANDOM=1 pytest tests/test_fuzz_readers.py`` (random seeds; hypothesis prints the failing input and
how to reproduce it). Every crash found becomes a regression case in ``test_regressions``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinngen.config import ConfigError, apply_overrides, load_config, read_raw
from pinngen.core.checkpoint import CheckpointError
from pinngen.data.errors import DataError

FUZZ = settings(max_examples=int(os.environ.get("PINNGEN_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=not os.environ.get("PINNGEN_FUZZ_RANDOM"), database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def one_line(err: BaseException, name: str | None = None) -> None:
    msg = str(err).strip()
    assert msg and "\n" not in msg, f"not one line: {msg!r}"
    if name is not None:
        assert name in msg, f"{msg!r} does not name {name!r}"


def expect(fn, errors, name=None):
    """Run ``fn``: a result, or one of ``errors`` with a one-line message naming ``name``; anything else fails."""
    try:
        return fn()
    except errors as e:
        one_line(e, name)
        return None


def mutate(data: bytes, draw) -> bytes:
    """A valid file made hostile: cut, bytes flipped, garbage spliced in, or a 32-bit field overwritten."""
    op = draw(st.sampled_from(["cut", "flip", "splice", "u32"]))
    if not data:
        return draw(st.binary(max_size=64))
    if op == "cut":
        return data[:draw(st.integers(0, len(data) - 1))]
    if op == "flip":
        b = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(b) - 1))
            b[i] ^= draw(st.integers(1, 255))
        return bytes(b)
    if op == "splice":
        i = draw(st.integers(0, len(data)))
        return data[:i] + draw(st.binary(min_size=1, max_size=64)) + data[i:]
    i = draw(st.integers(0, max(0, len(data) - 4)))
    big = draw(st.sampled_from([0, 1, 2**31 - 1, 2**32 - 1, 60000, 2**20]))
    return data[:i] + struct.pack(">I", big) + data[i + 4:]


# ---- IDX -------------------------------------------------------------------------------------------------


def _idx(shape=(3, 4, 5), dtype=np.uint8) -> bytes:
    from pinngen.data.idx import write_idx

    buf = io.BytesIO()
    arr = (np.arange(int(np.prod(shape))) % 251).astype(dtype).reshape(shape)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pinngen-fuzz-{os.getpid()}.idx"
    write_idx(path, arr, compress=False)
    buf.write(path.read_bytes())
    path.unlink()
    return buf.getvalue()


@FUZZ
@given(data=st.data())
def test_idx_reader_on_hostile_bytes(tmp_path, data):
    from pinngen.data.idx import read_idx

    valid = _idx(data.draw(st.sampled_from([(3, 4, 5), (7,), (2, 3)])))
    raw = data.draw(st.one_of(st.binary(max_size=80), st.just(valid)).map(lambda b: b))
    raw = mutate(raw, data.draw) if data.draw(st.booleans()) or raw != valid else raw
    if data.draw(st.booleans()):
        raw = gzip.compress(raw, mtime=0)
        if data.draw(st.booleans()):
            raw = raw[:data.draw(st.integers(0, len(raw)))]
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(raw)
    out = expect(lambda: read_idx(path), DataError, str(path))
    if out is not None:
        assert out.size * out.itemsize <= len(raw) * 1100 + 64  # never more than the file can hold (gzip ratio)


def test_idx_enormous_declared_size_is_refused_without_allocating(tmp_path):
    from pinngen.data.idx import read_idx

    path = tmp_path / "big-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\x00" * 16)
    with pytest.raises(DataError, match="truncated") as e:
        read_idx(path)
    one_line(e.value, str(path))


# ---- series CSV, labelled CSV ----------------------------------------------------------------------------

_CSV_TOKENS = ["2001-01", "2001-02", "2001-03", "2001-05", "1999", "2001-13", "date", "value", "x", "label",
               "1", "2.5", "-3e2", "nan", "NaN", "", "inf", "1e400", '"', "'", " ", "\t", ";", "a", "é", "\x00",
               "9" * 40, "0x1F", "TRUE"]


def _csv_text(draw, min_rows=0):
    rows = draw(st.lists(st.lists(st.sampled_from(_CSV_TOKENS), max_size=5), min_size=min_rows, max_size=8))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", ""]))
    return "\n".join(sep.join(r) for r in rows) + end


@FUZZ
@given(data=st.data())
def test_series_csv_reader_on_hostile_text(tmp_path, data):
    from pinngen.sequence.data import load_series

    text = _csv_text(data.draw)
    path = tmp_path / "series.csv"
    if data.draw(st.booleans()):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(data.draw(st.binary(max_size=120)))
    date_column = data.draw(st.sampled_from([0, None, "date", 3]))
    out = expect(lambda: load_series(path, date_column=date_column), DataError, str(path))
    if out is not None:
        assert np.all(np.isfinite(out.values))


@FUZZ
@given(data=st.data())
def test_labelled_csv_reader_on_hostile_text(tmp_path, data):
    from pinngen.sequence.labelled import load_labelled_series

    path = tmp_path / "labelled.csv"
    if data.draw(st.booleans()):
        path.write_text(_csv_text(data.draw), encoding="utf-8")
    else:
        path.write_bytes(data.draw(st.binary(max_size=120)))
    out = expect(lambda: load_labelled_series(path), DataError, str(path))
    if out is not None:
        assert len(out.x) == len(out.labels) == len(out.lengths) and np.all(np.isfinite(out.x))


# ---- `pinngen predict` point files -----------------------------------------------------------------------


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@FUZZ
@given(data=st.data())
def test_cli_point_files_on_hostile_bytes(tmp_path, data):
    from pinngen.cli import _read_points

    suffix = data.draw(st.sampled_from([".npy", ".csv"]))
    valid = _npy(np.linspace(0, 1, 12).reshape(6, 2)) if suffix == ".npy" else b"0.1,0.2\n0.3,0.4\n"
    raw = data.draw(st.one_of(st.just(valid), st.binary(max_size=100)))
    if data.draw(st.booleans()):
        raw = mutate(raw, data.draw)
    path = tmp_path / f"points{suffix}"
    path.write_bytes(raw)
    out = expect(lambda: _read_points(str(path)), (ValueError, FileNotFoundError), str(path))
    if out is not None:
        assert out.ndim == 2 and np.all(np.isfinite(out))


# ---- image folders ---------------------------------------------------------------------------------------


def _png(size=(4, 3), mode="L") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, 7).save(buf, format="PNG")
    return buf.getvalue()


@FUZZ
@given(data=st.data())
def test_image_folder_reader_on_hostile_files(tmp_path_factory, data):
    from pinngen.data.loaders import load_image_folder

    root = tmp_path_factory.mktemp("images")
    for c in ("a", "b"):
        (root / c).mkdir()
        (root / c / "0.png").write_bytes(_png())
    raw = data.draw(st.one_of(st.just(_png()), st.just(_png((5, 3))), st.just(_png(mode="RGB")),
                              st.binary(max_size=80)))
    if data.draw(st.booleans()):
        raw = mutate(raw, data.draw)
    bad = root / data.draw(st.sampled_from(["a", "b"])) / data.draw(st.sampled_from(["1.png", "1.jpg", "x.PNG"]))
    bad.write_bytes(raw)
    out = expect(lambda: load_image_folder(root), DataError, str(root))
    if out is not None:
        assert out.x.dtype == np.uint8 and len(out.x) == len(out.y) == 3


def test_image_decompression_bomb_is_a_one_line_error(tmp_path):
    from PIL import Image

    from pinngen.data.loaders import load_image_folder

    (tmp_path / "a").mkdir()
    Image.new("1", (20000, 20000)).save(tmp_path / "a" / "big.png")  # 400 megapixels, a few kB on disk
    with pytest.raises(DataError) as e:
        load_image_folder(tmp_path)
    one_line(e.value, "big.png")


# ---- configs and overrides -------------------------------------------------------------------------------

_YAML_TOKENS = ["kind: pinn", "kind: nope", "seed: 3", "seed: -1", "seed: x", "train:", "  steps: 10",
                "  phases: [1, 2]", "  - optimizer: adam", "    lr: -1", "data: {a: 1}", "model: [", "&a [1]",
                "*a", "!!python/object:os.system", "? x", "---", "...", "\t", "problem: burgers", "name: a/../b",
                "x: 1e999", "y: .nan", "- 1", "{", "}", ":", "%YAML 1.2"]


@FUZZ
@given(data=st.data())
def test_config_loader_on_hostile_yaml(tmp_path, data):
    lines = data.draw(st.lists(st.sampled_from(_YAML_TOKENS), max_size=8))
    path = tmp_path / "exp.yaml"
    path.write_text("\n".join(lines))
    expect(lambda: load_config(str(path)), ConfigError, None)


_KEYS = ["seed", "kind", "train.phases.0.lr", "train.phases.9.lr", "train.phases.x", "model", "model.hidden",
         "data..x", "", ".", "train.chunk", "train.phases.0", "evaluation.nope", "seed.x", "name"]
_VALUES = ["1", "-1", "1e-3", "[1, 2]", "{a: 1}", "null", "nan", "abc", "[", "1e999", "true", "!!binary AA==", ""]


@FUZZ
@given(data=st.data())
def test_overrides_on_hostile_keys_and_values(data):
    items = [data.draw(st.sampled_from(_KEYS)) + data.draw(st.sampled_from(["=", "==", ":", ""]))
             + data.draw(st.sampled_from(_VALUES)) for _ in range(data.draw(st.integers(1, 3)))]
    expect(lambda: load_config("burgers", overrides=items), ConfigError, None)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """A 'billion laughs' config: 9 levels of 10 aliases each would be 10^9 values to validate."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines += ["kind: pinn", "problem: burgers", "model: *a8"]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines))
    with pytest.raises(ConfigError) as e:
        load_config(str(path))
    one_line(e.value, str(path))


def test_overrides_never_touch_the_raw_dict():
    raw = read_raw("burgers")
    before = json.dumps(raw, sort_keys=True, default=str)
    with pytest.raises(ConfigError):
        apply_overrides(raw, ["seed.x=1"])
    assert json.dumps(raw, sort_keys=True, default=str) == before


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


# ---- regressions found by the properties above -----------------------------------------------------------


def test_regressions(tmp_path):
    """Inputs the fuzzers found that used to crash with a traceback (kept so they stay fixed)."""
    import jax.numpy as jnp

    from pinngen.cli import _read_points
    from pinngen.core.checkpoint import tree_from_bytes
    from pinngen.data.idx import read_idx
    from pinngen.sequence.data import load_series
    from pinngen.sequence.labelled import load_labelled_series

    cases = []
    (tmp_path / "a.csv").write_bytes(b"\x80")  # UnicodeDecodeError
    cases += [(lambda: load_series(tmp_path / "a.csv"), DataError, "a.csv"),
              (lambda: load_labelled_series(tmp_path / "a.csv"), DataError, "a.csv"),
              (lambda: _read_points(str(tmp_path / "a.csv")), DataError, "a.csv")]
    (tmp_path / "b.csv").write_bytes(b"\x1f\x8b")  # a gzip magic and nothing else (EOFError)
    cases += [(lambda: load_series(tmp_path / "b.csv"), DataError, "b.csv")]
    good = _npy(np.ones((2, 2)))
    (tmp_path / "c.npy").write_bytes(good.replace(b"'descr'", b"\x00descr'"))  # ast: SyntaxError
    (tmp_path / "d.npy").write_bytes(good.replace(b"'<f8'", b"'\x01<f8'"))  # TypeError: data type not understood
    (tmp_path / "e.npy").write_bytes(_npy(np.array(["ab", "cd"])))  # strings: np.isfinite TypeError
    for name in ("c.npy", "d.npy", "e.npy"):
        cases.append((lambda name=name: _read_points(str(tmp_path / name)), DataError, name))
    (tmp_path / "f.idx.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + b"\x00\x00\x01\x00" * 3, mtime=0))
    cases.append((lambda: read_idx(tmp_path / "f.idx.gz"), DataError, "f.idx.gz"))  # huge dims -> OverflowError
    strings = io.BytesIO()
    np.savez(strings, leaf_00000=np.array(["a", "b"]))
    cases.append((lambda: tree_from_bytes({"w": jnp.zeros(2)}, strings.getvalue(), what="m.npz"), CheckpointError,
                  "m.npz"))
    cases.append((lambda: load_config("burgers", overrides=["kind=[1, 2]"]), ConfigError, "kind"))
    for fn, err, name in cases:
        with pytest.raises(err) as e:
            fn()
        one_line(e.value, name)
