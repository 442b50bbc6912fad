"""Names to implementations: experiment kinds (used by config/CLI) and built-in experiments.

A *kind* is a :class:`pinngen.core.kind.Kind` value (``Config``, ``setup``, ``evaluate``, ``template``,
``predict``, and optionally ``sample``, ``log_prob``, ``headline``) defined by a family module as ``KIND``
(or, for a module hosting several kinds, under the attribute named after ``:``). Modules are imported
lazily so ``pinngen list`` stays fast.
"""

from __future__ import annotations

import importlib

from pinngen.config import ConfigError
from pinngen.core.kind import Kind

KINDS: dict[str, str] = {
    "dense": "pinngen.supervised.experiment:KIND",
    "pinn": "pinngen.pinn.experiment:KIND",
    "vae": "pinngen.generative.vae_experiment:KIND",
    "autoencoder": "pinngen.generative.ae_experiment:KIND",
    "ae-compare": "pinngen.generative.ae_experiment:COMPARE_KIND",
    "diffusion": "pinngen.generative.diffusion_experiment:KIND",
    "generative-compare": "pinngen.generative.compare_experiment:KIND",
    "gan": "pinngen.generative.gan_experiment:KIND",
    "flow": "pinngen.generative.flow_experiment:KIND",
    "gradient-probe": "pinngen.sequence.probe_experiment:KIND",
    "charlm": "pinngen.sequence.charlm_experiment:KIND",
    "forecast": "pinngen.sequence.forecast_experiment:KIND",
    "sequence-classify": "pinngen.sequence.classify_experiment:KIND",
}


def get_kind(name: str) -> Kind:
    if name not in KINDS:
        raise ConfigError(f"config error: kind: unknown kind {name!r}; choose one of {', '.join(sorted(KINDS))}")
    module, _, attr = KINDS[name].partition(":")
    kind = getattr(importlib.import_module(module), attr or "KIND")
    if not isinstance(kind, Kind):
        raise TypeError(f"{KINDS[name]} is a {type(kind).__name__}, not a pinngen.core.kind.Kind")
    return kind


def kinds_that(can: str) -> list[str]:
    """Names of the registered kinds with the optional capability ``can`` (``sample`` or ``log_prob``)."""
    return sorted(n for n in KINDS if getattr(get_kind(n), can) is not None)


def register_kind(name: str, target: str) -> None:
    """Make a kind available to configs (e.g. from a plug-in package): ``target`` is ``module:ATTR``."""
    KINDS[name] = target
