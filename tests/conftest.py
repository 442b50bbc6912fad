import os
import tempfile

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

# The suite trains many small models whose programs are identical from test to test (the contract suite fits
# each kind five times; every fit builds its step afresh): XLA's persistent cache, keyed by the program's
# content, the JAX version and the flags, compiles each once per machine and shares it between the two
# workers and the `pinngen` subprocesses some tests start (they inherit the environment). It changes no
# result (a cached executable is the same program) and saves much of the suite's compile time.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(),
                                                                 f"pinngen-test-xla-cache-{os.getuid()}"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

import jax  # noqa: E402

# As pinngen.runs.set_precision does for every run: on a GPU, XLA's float32 default is TF32.
jax.config.update("jax_default_matmul_precision", "highest")

