import atexit
import os
import shutil
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

# One on-disk XLA compilation cache for the whole test session, inherited by every xdist worker and by every
# subprocess a test starts (CLI runs, the sharded and multi-host children). Many end-to-end tests compile the
# same programs again: a run and its resume in another process, the API and the CLI form of one small experiment,
# and every module after `clear_caches()` below. The cache turns those compilations into file reads. `make test`
# points its pytest sessions at one fresh folder; a plain `pytest` makes its own and removes it at exit. Entries
# are keyed by the compiled program and the JAX version, so a cache never stands in for changed code.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="pinngen-test-xla-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
# The suite's time is mostly XLA compiling thousands of tiny programs, each run for a few steps: without LLVM's
# optimization passes they compile 25-40 % faster (tests/contracts 144 s -> 99 s on one core), while the
# results stay those of the same programs (every tolerance in the suite holds; bitwise resume checks compare
# runs compiled alike). Subprocesses a test starts with its own XLA_FLAGS keep the default level.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()


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
