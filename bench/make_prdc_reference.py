"""Make tests/generative/data/prdc_reference.npz: feature sets and the values the authors' ``prdc`` gives them.

The reference for :mod:`pinngen.generative.sample_metrics.prdc` is computed by the package of Naeem et al.
(2020), ``prdc`` (PyPI, NAVER, MIT), in its own throwaway virtual environment, so nothing of pinngen is
involved::

    python3 -m venv /work/venvs/prdc && /work/venvs/prdc/bin/pip install prdc
    /work/venvs/prdc/bin/python bench/make_prdc_reference.py

Cases (fixed seeds, float64): samples from the same distribution, a shifted and widened one, a collapsed
one (one of four clusters), and a memorising one (exact copies of real points plus noise), with k = 5, 5,
5, 3. The test compares our values with these to 1e-6.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from prdc import compute_prdc

OUT = Path(__file__).resolve().parents[1] / "tests" / "generative" / "data" / "prdc_reference.npz"
METRICS = ("precision", "recall", "density", "coverage")


def cases() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    rng = np.random.default_rng(20240611)
    same = (rng.normal(size=(250, 8)), rng.normal(size=(250, 8)), 5)
    shifted = (rng.normal(size=(300, 16)), 0.5 + 1.5 * rng.normal(size=(200, 16)), 5)
    centres = 4.0 * rng.normal(size=(4, 16))
    real = centres[rng.integers(0, 4, 240)] + rng.normal(size=(240, 16))
    collapsed = (real, centres[0] + 0.7 * rng.normal(size=(150, 16)), 5)
    base = rng.normal(size=(200, 16))
    copies = base[rng.choice(200, 100, replace=False)]
    memorised = (base, np.concatenate([copies, 2.0 * rng.normal(size=(50, 16))]), 3)
    return {"same": same, "shifted": shifted, "collapsed": collapsed, "memorised": memorised}


def main() -> int:
    arrays: dict[str, np.ndarray] = {}
    for name, (real, fake, k) in cases().items():
        quiet = io.StringIO()
        stdout, sys.stdout = sys.stdout, quiet  # compute_prdc prints the set sizes
        try:
            got = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
        finally:
            sys.stdout = stdout
        arrays[f"{name}/real"], arrays[f"{name}/fake"] = real, fake
        arrays[f"{name}/k"] = np.array(k)
        arrays[f"{name}/expected"] = np.array([float(got[m]) for m in METRICS])
        print(name, real.shape, fake.shape, f"k={k}", {m: round(float(got[m]), 6) for m in METRICS})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, names=np.array(list(cases())), metrics=np.array(METRICS), **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
