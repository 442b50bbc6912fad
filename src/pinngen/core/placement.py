"""Where the training state lives: one device (the default), or data parallelism over several (``train.devices``).

Data parallelism goes through JAX's own engine: a one-axis ``jax.sharding.Mesh`` named ``data`` over the first
``devices`` devices; parameters, optimizer state and everything without a sample axis are replicated; every data
array whose leading (sample) axis divides evenly is split along it (collocation points, images, windows). The
step is the same jitted program: XLA partitions it from the input shardings and reduces the gradients itself, so
the loss trajectory is the single-device one up to float rounding (tests/core/test_placement.py).

On a CPU, several host devices come from ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (set before JAX
starts); on a GPU machine, from the visible GPUs. Several hosts: start every process with
``jax.distributed.initialize(coordinator_address, num_processes, process_id)`` before the run (see the README);
``jax.devices()`` then lists the devices of all processes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def init_distributed(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join a multi-process (multi-host) run: JAX's ``jax.distributed.initialize``, with Gloo collectives when the
    devices are CPUs. Call it first, before anything touches a device (``pinngen run --coordinator ...`` does)."""
    if num_processes < 1 or not 0 <= process_id < num_processes:
        raise ValueError(f"--process-id {process_id} / --num-processes {num_processes}: the id must be in "
                         f"0..{num_processes - 1}")
    if ":" not in coordinator:
        raise ValueError(f"--coordinator {coordinator!r}: give host:port of process 0, e.g. 10.0.0.1:12355")
    import os

    if os.environ.get("JAX_PLATFORMS", "").startswith("cpu"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes=num_processes, process_id=process_id)


class Placement:
    """``data(tree)`` and ``replicate(tree)`` put arrays where the step expects them."""

    def __init__(self, devices: int | None = None):
        n = int(devices or 1)
        available = jax.device_count()
        if n > available:
            hint = (f"; on a CPU set XLA_FLAGS=--xla_force_host_platform_device_count={n} before starting Python"
                    if jax.default_backend() == "cpu" else "")
            raise ValueError(f"train.devices={n} but {available} device(s) are visible{hint}, or lower "
                             "train.devices")
        self.n = n
        if n == 1:
            self.mesh = None
            return
        from jax.sharding import Mesh, NamedSharding, PartitionSpec

        self.mesh = Mesh(np.asarray(jax.devices()[:n]), ("data",))
        self._split = NamedSharding(self.mesh, PartitionSpec("data"))
        self._whole = NamedSharding(self.mesh, PartitionSpec())

    @property
    def sharded(self) -> bool:
        return self.mesh is not None

    def data(self, tree):
        """Arrays of a batch or data set: split along the sample axis when it divides evenly, else replicated."""
        if tree is None:
            return None
        if not self.sharded:
            return jax.tree_util.tree_map(jnp.asarray, tree)

        def put(x):
            x = jnp.asarray(x)
            split = x.ndim >= 1 and x.shape[0] % self.n == 0 and x.shape[0] >= self.n
            return jax.device_put(x, self._split if split else self._whole)

        return jax.tree_util.tree_map(put, tree)

    def constrain(self, batch):
        """Inside a jitted step: split a minibatch's sample axis over the devices (a gather from split data
        would otherwise come out whole on every device, and each device would compute the full batch)."""
        def put(x):
            if isinstance(x, jax.Array) and x.ndim >= 1 and x.shape[0] % self.n == 0:
                return jax.lax.with_sharding_constraint(x, self._split)
            return x

        return jax.tree_util.tree_map(put, batch)

    def replicate(self, tree):
        """Parameters and optimizer state: one full copy on every device."""
        if not self.sharded or tree is None:
            return tree
        return jax.tree_util.tree_map(lambda x: jax.device_put(x, self._whole) if isinstance(x, jax.Array) else x,
                                      tree)
