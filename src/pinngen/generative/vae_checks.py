"""diagnose() checks of the VAE family: ``kl_collapse``.

Registered on import (``pinngen.generative.vae_experiment`` imports this module), for runs whose diagnose
context names the family: ``DiagnoseContext(family_name="vae", family={"latent_dim": 16})``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinngen.core.diagnose import TermView, register_check, register_thresholds, validate_numbers
from pinngen.core.diagnose.words import num
from pinngen.core.findings import Finding

FAMILY = "vae"
KL_NAMES = ("kl", "kld", "kl_divergence")
RECON_NAMES = ("recon", "reconstruction", "rec", "nll", "likelihood", "mse", "bce")


@dataclass(frozen=True)
class VAEThresholds:
    """Thresholds of the VAE family's checks; override them like the core ones
    (``diagnose(kl_per_unit=0.05)``, ``pinngen diagnose RUN --set kl_per_unit=0.05``)."""

    kl_per_unit: float = 0.01
    """KL term below this many nats per latent unit (``context.family['latent_dim']``, else 1) at the end:
    ``kl_collapse``: a posterior that close to the prior tells the decoder almost nothing about the input."""

    def __post_init__(self) -> None:
        validate_numbers(self, "threshold")


def kl_collapse(view: TermView) -> list[Finding]:
    """``kl_collapse``: the KL term ended near zero while the reconstruction term did not, so the posterior
    equals the prior and the decoder ignores the latent code."""
    kl = next((n for n in view.finals if n.lower() in KL_NAMES), None)
    if kl is None:
        return []
    latent = _latent_dim(view.context.family.get("latent_dim"))
    units = latent or 1
    th: VAEThresholds = view.family_thresholds or VAEThresholds()
    kl_final = view.finals[kl]
    if kl_final >= th.kl_per_unit * units:
        return []
    rest = {n: v for n, v in view.finals.items() if n != kl}
    recon = next((n for n in rest if n.lower() in RECON_NAMES), None)
    if recon is None and rest:
        recon = max(rest, key=lambda n: abs(rest[n]))
    if recon is None or not rest[recon] > kl_final:
        return []
    per = (f"{num(kl_final / units)} nats per latent unit over {units}" if latent
           else f"below {num(th.kl_per_unit)} nats; latent_dim unknown")
    message = (
        f"The KL term '{kl}' ended at {num(kl_final)} nats ({per}) while the reconstruction term "
        f"'{recon}' is {num(rest[recon])}: the posterior has collapsed onto the prior and the decoder "
        "ignores the latent code."
    )
    hint = (
        "Anneal the KL weight up from 0 (KL warm-up), use beta < 1 or free bits, or weaken the decoder "
        "so that it needs the latent code."
    )
    return [Finding("kl_collapse", "warning", message, hint, view.end.last_step, f"loss/{kl}")]


def _latent_dim(value) -> int | None:
    try:
        latent = int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return latent if latent and latent > 0 else None


# The KL term settles while the reconstruction still falls: no term_stalled about it.
register_check(FAMILY, kl_collapse, terms=KL_NAMES)
register_thresholds(FAMILY, VAEThresholds())
