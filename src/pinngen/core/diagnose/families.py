"""Checks and thresholds that a model family registers: findings about its own loss terms (what a VAE's
terms mean, say) without core naming them.

A family registers on import of its module (``pinngen.load(run).diagnose()`` imports the run's kind
module first). Its checks run when the diagnose context names it (``DiagnoseContext(family_name=...)``);
its thresholds are overridable like the core ones, by ``diagnose(**overrides)``, ``pinngen diagnose --set
NAME=VALUE`` or a run config's ``diagnose:`` block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Protocol

from pinngen.core.diagnose.context import DiagnoseContext
from pinngen.core.diagnose.curves import Curve
from pinngen.core.diagnose.loss_checks import EndState
from pinngen.core.diagnose.thresholds import DiagnoseThresholds
from pinngen.core.findings import Finding


@dataclass(frozen=True)
class TermView:
    """What a family check sees: the run's loss terms at the end of its last phase."""

    history: Any
    """The :class:`~pinngen.core.history.History` (one objective's, in a multi-objective run)."""
    loss: Curve
    """The total training loss."""
    end: EndState
    """The final window of the last phase (``end.step`` .. ``end.last_step``)."""
    terms: Mapping[str, Curve]
    """Each loss term with at least ``min_steps`` finite values, by name."""
    finals: Mapping[str, float]
    """Each term's final level: its median over the final window."""
    context: DiagnoseContext
    """The run's context; family values in ``context.family``."""
    thresholds: DiagnoseThresholds
    """The core thresholds."""
    family_thresholds: Any
    """The family's registered thresholds (overrides applied), or None when it registered none."""


class FamilyCheck(Protocol):
    """A family's check: findings from the terms, ``[]`` when there is nothing to say. A finding about
    one term should set ``series=f"loss/{term}"``: core then says nothing more about that term's balance."""

    def __call__(self, view: TermView) -> list[Finding]: ...


@dataclass(frozen=True)
class RegisteredCheck:
    check: FamilyCheck
    terms: frozenset[str]  # lower-case names of the terms this check judges instead of term_stalled
    owns_term: Callable[[str], bool] | None = None  # or a predicate on the name (names that depend on a config)

    def owns(self, name: str) -> bool:
        return name.lower() in self.terms or (self.owns_term is not None and bool(self.owns_term(name)))


_CHECKS: dict[str, dict[str, RegisteredCheck]] = {}
_THRESHOLDS: dict[str, Any] = {}


def register_check(family: str, check: FamilyCheck, *, terms: Iterable[str] | Callable[[str], bool] = ()) -> None:
    """Run ``check`` when the diagnose context's ``family_name`` is ``family``.

    ``terms``: names (any case) of loss terms that the check judges itself; the generic ``term_stalled``
    check leaves them out (a term that settles by design while the others still fall is no stall); or a
    predicate ``terms(name) -> bool`` when the names depend on a config (diffusion's timestep buckets).
    Registering the same function again (a module re-imported) replaces it.
    """
    if not isinstance(family, str) or not family:
        raise ValueError(f"register_check family={family!r} must be a non-empty family name")
    if not callable(check):
        raise ValueError(f"register_check check={check!r} must be callable as check(view) -> list[Finding]")
    key = f"{getattr(check, '__module__', '')}.{getattr(check, '__qualname__', repr(check))}"
    if callable(terms):
        _CHECKS.setdefault(family, {})[key] = RegisteredCheck(check, frozenset(), terms)
        return
    _CHECKS.setdefault(family, {})[key] = RegisteredCheck(check, frozenset(t.lower() for t in terms))


def register_thresholds(family: str, defaults: Any) -> None:
    """Give ``family`` its own thresholds: ``defaults`` is a frozen dataclass instance whose fields are
    numbers (validated by the dataclass itself); its field names must not repeat core threshold names."""
    if not is_dataclass(defaults) or isinstance(defaults, type):
        raise ValueError(f"register_thresholds defaults={defaults!r} must be a dataclass instance")
    clash = sorted({f.name for f in fields(defaults)} & {f.name for f in fields(DiagnoseThresholds)})
    if clash:
        raise ValueError(f"register_thresholds: {', '.join(clash)} already name core thresholds")
    _THRESHOLDS[family] = defaults


def checks_for(family: str | None) -> list[RegisteredCheck]:
    return list(_CHECKS.get(family, {}).values()) if family else []


def registered_families() -> list[str]:
    return sorted(set(_CHECKS) | set(_THRESHOLDS))


def resolve_thresholds(
    thresholds: DiagnoseThresholds | None, overrides: Mapping[str, Any], family: str | None
) -> tuple[DiagnoseThresholds, Any]:
    """``(core, family)`` thresholds: the defaults (or ``thresholds``) with ``overrides`` applied, each name
    to whichever of the two defines it. An unknown name raises ValueError listing the valid ones."""
    if thresholds is None:
        thresholds = DiagnoseThresholds()
    elif not isinstance(thresholds, DiagnoseThresholds):
        raise ValueError(f"thresholds={thresholds!r} must be a DiagnoseThresholds or None")
    family_th = _THRESHOLDS.get(family) if family else None
    core_names = [f.name for f in fields(DiagnoseThresholds)]
    family_names = [f.name for f in fields(family_th)] if family_th is not None else []
    unknown = sorted(set(overrides) - set(core_names) - set(family_names))
    if unknown:
        raise ValueError(f"unknown threshold(s) {', '.join(unknown)}{_elsewhere(unknown)}; valid names: "
                         f"{', '.join(core_names + family_names)}")
    core = {k: v for k, v in overrides.items() if k in core_names}
    own = {k: v for k, v in overrides.items() if k in family_names}
    if core:
        thresholds = replace(thresholds, **core)
    if own:
        family_th = replace(family_th, **own)
    return thresholds, family_th


def _elsewhere(names: list[str]) -> str:
    """' (defined by family 'vae': set the context's family_name)' when another family owns a name."""
    owners = sorted({fam for fam, th in _THRESHOLDS.items() for f in fields(th) if f.name in names})
    if not owners:
        return ""
    return f" (defined by family {', '.join(map(repr, owners))}: name it as the context's family_name)"
