"""Run by tests/core/test_placement.py as two processes on localhost (JAX's multi-controller runtime, Gloo CPU
collectives): ``python multihost_child.py PORT PROCESS_ID KIND@STEPS``; each process owns one CPU device, the
training step is sharded over both (train.devices=2); prints the loss trajectory as JSON."""

import json
import sys

import jax

if __name__ == "__main__":
    port, pid, arg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=pid)
    assert jax.process_count() == 2 and jax.device_count() == 2 and jax.local_device_count() == 1

    from sharded_child import trajectory

    name, _, steps = arg.partition("@")
    losses, where = trajectory(name, 2, int(steps))
    print(json.dumps({"process": pid, "losses": losses, "devices_of_params": where}))
