import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")


import jax  # noqa: E402

# As pinngen.runs.set_precision does for every run: on a GPU, XLA's float32 default is TF32.
jax.config.update("jax_default_matmul_precision", "highest")

