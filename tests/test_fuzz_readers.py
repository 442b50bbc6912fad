"""Hostile input, property-based (hypothesis): every reader of user files ends in the library's own one-line error
(naming the file) or a valid result - never another exception, a hang or unbounded memory.

Readers: IDX (plain and gzip), series CSV, labelled-series CSV, ``pinngen predict``'s point files, YAML configs
and ``--set`` overrides (checkpoints and run folders: test_fuzz_run_files.py). Each property runs
``PINNGEN_FUZZ_EXAMPLES`` cases (default 150, derandomized so CI is deterministic); a longer nightly-style search:
``PINNGEN_FUZZ_EXAMPLES=5000 PINNGEN_FUZZ_RANDOM=1 pytest tests/test_fuzz_*.py`` (random seeds; hypothesis prints
the failing input and how to reproduce it). Every crash found becomes a regression case in ``test_regressions``.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_helpers import FUZZ, expect, mutate, one_line
from pinngen.config import ConfigError, apply_overrides, load_config, read_raw
from pinngen.core.checkpoint import CheckpointError
from pinngen.data.errors import DataError

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
