"""Run by tests/core/test_placement.py in a subprocess with 4 host devices: each named kind's small contract
config (``kind[+optimizer[+dtype]]@steps``) trained on 1 device and on 4 (train.devices); prints, as JSON, how far
the two loss trajectories are apart."""

import copy
import json
import sys

import jax
import numpy as np

from pinngen.config import load_config
from pinngen.core.train import fit
from pinngen.registry import get_kind
from pinngen.runs import precision


def trajectory(name: str, devices: int, steps: int, *, checkpoint_dir=None, stop_at=None, resume=False):
    name, _, optimizer = name.partition("+")  # e.g. pinn+lbfgs: the kind's config with an L-BFGS phase
    optimizer, _, dtype = optimizer.partition("+")  # pinn+lbfgs+float64
    kind = get_kind(name)
    raw = copy.deepcopy(kind.contract_config)
    raw["kind"] = name
    train = raw.setdefault("train", {})
    train.update(progress=False, devices=devices, chunk=10, eval_every=steps)
    train["phases"] = [{**train.get("phases", [{}])[0], "steps": steps}]
    train["phases"][0].pop("epochs", None)
    if optimizer:
        train["phases"] = [{"optimizer": optimizer, "steps": steps}]
    if dtype:
        raw["dtype"] = dtype
    cfg = load_config(raw)
    with precision(cfg.dtype):
        setup = kind.setup(cfg)
        def stop(state):
            state.stop = stop_at is not None and state.step >= stop_at

        model, h = fit(setup.model, setup.data, cfg.train, loss_terms=setup.loss_terms, seed=cfg.seed,
                       key=jax.random.PRNGKey(cfg.seed), checkpoint_dir=checkpoint_dir, resume=resume,
                       callbacks=(stop,), **setup.fit_kwargs)
        shardings = {str(getattr(x, "sharding", None).num_devices) for x in jax.tree_util.tree_leaves(model)
                     if isinstance(x, jax.Array)}
    return [float(v) for v in h.column("loss")], sorted(shardings)


if __name__ == "__main__":
    out = {}
    assert jax.device_count() == 4, jax.devices()
    for arg in sys.argv[1:]:  # [resume:]kind[+optimizer[+dtype]]@steps
        name, _, steps = arg.partition("@")
        steps = int(steps)
        one, _ = trajectory(name.removeprefix("resume:"), 1, steps)
        if name.startswith("resume:"):  # half the steps on 4 devices, the rest resumed on 1
            import tempfile

            with tempfile.TemporaryDirectory() as d:
                trajectory(name[7:], 4, steps, checkpoint_dir=d, stop_at=steps // 2)
                four, where = trajectory(name[7:], 1, steps, checkpoint_dir=d, resume=True)
        else:
            four, where = trajectory(name, 4, steps)
        a, b = np.asarray(one), np.asarray(four)
        out[name] = dict(steps=len(a), rel=float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12))),
                         first=a[0], last=a[-1], devices_of_params=where)
    print(json.dumps(out))
