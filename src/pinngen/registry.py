"""Names to implementations: experiment kinds (used by config/CLI) and built-in experiments.

A *kind* is a module exposing ``Config`` (a :class:`pinngen.config.RunConfig` subclass), ``setup(cfg) ->
Setup``, ``evaluate(cfg, setup, model, history, run_dir) -> dict``, ``template(spec) -> model`` and
``predict(model, spec, x) -> y``. Modules are imported lazily so ``pinngen list`` stays fast.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pinngen.config import ConfigError

KINDS: dict[str, str] = {
    "dense": "pinngen.supervised.experiment",
    "pinn": "pinngen.pinn.experiment",
    "vae": "pinngen.generative.vae_experiment",
    "autoencoder": "pinngen.generative.ae_experiment",
    "ae-compare": "pinngen.generative.ae_experiment",
}


def get_kind(name: str) -> ModuleType:
    if name not in KINDS:
        raise ConfigError(f"config error: kind: unknown kind {name!r}; choose one of {', '.join(sorted(KINDS))}")
    return importlib.import_module(KINDS[name])


def register_kind(name: str, module: str) -> None:
    """Make a kind available to configs (e.g. from a plug-in package)."""
    KINDS[name] = module
