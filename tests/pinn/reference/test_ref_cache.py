"""The .npz cache: keyed by parameters, atomic, never unpickles, recovers from bad files."""

import numpy as np

from pinngen.pinn.reference.cache import cache_dir, cache_path, cached, load_arrays


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNGEN_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path
    assert cache_path("demo", {"a": 1}).parent == tmp_path
    assert cache_path("demo", {"a": 1}) != cache_path("demo", {"a": 2})
    assert cache_path("demo", {"a": 1, "b": 2}) == cache_path("demo", {"b": 2, "a": 1})


def test_computes_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNGEN_CACHE", str(tmp_path / "nested"))
    calls = []

    def compute():
        calls.append(1)
        return {"u": np.arange(6.0).reshape(2, 3)}

    first = cached("demo", {"n": 3}, compute)
    second = cached("demo", {"n": 3}, compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first["u"], second["u"])
    assert [p.suffix for p in (tmp_path / "nested").iterdir()] == [".npz"]


def test_corrupt_or_object_files_are_recomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNGEN_CACHE", str(tmp_path))
    path = cache_path("demo", {"n": 1})
    path.write_bytes(b"not a zip file")
    assert load_arrays(path) is None
    np.savez(path, obj=np.array([{"a": 1}], dtype=object))  # would need pickle to read
    assert load_arrays(path) is None
    out = cached("demo", {"n": 1}, lambda: {"u": np.ones(2)})
    np.testing.assert_array_equal(out["u"], 1.0)
    np.testing.assert_array_equal(load_arrays(path)["u"], 1.0)
