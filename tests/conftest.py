import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")


import jax  # noqa: E402

# As pinngen.runs.set_precision does for every run: on a GPU, XLA's float32 default is TF32.
jax.config.update("jax_default_matmul_precision", "highest")



import gc  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code_after_each_module():
    """Drop every compiled executable and trace cache when a test module ends.

    An xdist worker runs hundreds of end-to-end tests in one process; without this it keeps thousands of XLA
    executables alive (5+ GB by the end of the suite), and XLA's CPU compiler crashed late in two CI runs
    (a segfault and an abort inside ``backend_compile_and_load``, each in a different, ordinary test).
    """
    yield
    jax.clear_caches()
    gc.collect()
