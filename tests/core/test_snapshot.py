"""A model folder read while a run rewrites it: the spec and the weights always come from the same version."""

import threading

import numpy as np

from pinngen.core import checkpoint as ckpt
from pinngen.core.io import write_unit


def _files(version: int) -> dict:
    spec = {"version": version}
    return {ckpt.WEIGHTS: ckpt.tree_to_bytes({"w": np.full((64, 64), float(version))}),
            ckpt.SPEC: (__import__("json").dumps(spec) + "\n").encode()}


def test_reads_during_rewrites_are_consistent(tmp_path):
    d = tmp_path / "model"
    write_unit(d, _files(0))
    stop = threading.Event()

    def writer():
        v = 1
        while not stop.is_set():
            write_unit(d, _files(v))
            v += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        seen = set()
        for _ in range(300):
            spec, tree = ckpt.load_snapshot(d, lambda spec: {"w": np.zeros((64, 64), np.float32)})
            w = np.asarray(tree["w"])
            assert np.all(w == spec["version"]), (spec, w[0, 0])
            seen.add(spec["version"])
    finally:
        stop.set()
        t.join()
    assert len(seen) > 5  # the reads really overlapped the rewrites


def test_a_missing_model_folder_is_the_plain_one_line_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no model spec"):
        ckpt.load_snapshot(tmp_path / "model", lambda spec: {})
