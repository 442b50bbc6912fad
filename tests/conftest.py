import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

# As pinngen.runs.set_precision does for every run: on a GPU, XLA's float32 default is TF32.
jax.config.update("jax_default_matmul_precision", "highest")


import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop each module's compiled XLA programs and garbage when it ends: the suite compiles hundreds of
    programs (U-Nets, samplers, PINN losses), and keeping them all alive ended two full runs in a segfault."""
    yield
    jax.clear_caches()
    gc.collect()
