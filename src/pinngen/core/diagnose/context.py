"""DiagnoseContext: what the trainer knows about a run that changes how its curves are read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

# Keys that pinngen wrote into ``history.meta["context"]`` before this class existed. Runs on disk still
# carry them, so they are read into their present places instead of being rejected:
# ``relu_like`` is derived from ``activations``; ``pinn: true`` named the family; ``latent_dim`` was the
# only family-specific value and belongs to the family that wrote it.
_LEGACY_DROPPED = frozenset({"relu_like"})
_LEGACY_FAMILY_FLAGS = {"pinn": "pinn"}
_LEGACY_FAMILY_VALUES = {"latent_dim": "vae"}

# The fields that may differ between the objectives of a multi-objective run (a GAN's two optimizers).
_PER_OBJECTIVE_KEYS = ("activations", "dropout", "regularised", "optimizer", "lr", "adversarial")


@dataclass(frozen=True)
class DiagnoseContext:
    """Facts about a run that :func:`~pinngen.core.diagnose.diagnose` cannot read off its curves.

    Every field is optional; each one changes wording or severity, never whether a curve is measured.
    Families build one in their ``setup`` and ``fit`` stores :meth:`to_dict` in
    ``history.meta["context"]``, so a run reopened from disk is judged with the same facts.
    """

    activations: tuple[str, ...] = ()
    """Activation names of the network. With ReLU-type activations (derivative discontinuous) jumps in the
    loss are expected, so ``jumps`` is an info instead of a warning."""
    dropout: float = 0.0
    """Dropout rate in [0, 1). Above 0 the validation loss may sit below the training loss
    (``val_below_train`` becomes an info)."""
    regularised: bool = False
    """Any other training-only regulariser (weight decay, input noise): same effect as dropout."""
    optimizer: str | None = None
    """Optimizer name (``adam``, ``sgd``, ...), for learning-rate advice; default: the last phase's name
    when it is a known optimizer."""
    lr: float | None = None
    """The (initial) learning rate, quoted in advice; default: the last value of the ``lr`` column."""
    adversarial: bool = False
    """The objective plays against another one (a GAN's generator and discriminator): its level and trend
    do not measure progress, so no ``no_progress`` / ``still_learning`` / ``converged`` / ``unstable``
    verdicts are drawn from them (divergence, blow-ups and jumps still are); set per objective."""
    data_redraw_every: int | None = None
    """The training data change at every multiple of this many steps (a PINN's collocation redraws, RAD): the
    loss at such a step is measured on new points, so an upward spike there is not read as a jump."""
    family_name: str | None = None
    """The model family whose registered checks and thresholds apply (see
    :func:`~pinngen.core.diagnose.register_check`), e.g. ``"vae"``; None: core checks only."""
    family: Mapping[str, Any] = field(default_factory=dict)
    """Family-specific values read by that family's checks, e.g. ``{"latent_dim": 16}``; JSON-able."""
    per_objective: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """For runs with several objectives (``history.meta["objectives"]``): values that differ per objective,
    e.g. ``{"generator": {"optimizer": "adam", "lr": 2e-4}}``; keys: the fields above
    ``family_name``."""

    def __post_init__(self) -> None:
        acts = self.activations
        if isinstance(acts, str):
            acts = (acts,)
        if acts is None or not all(isinstance(a, str) for a in acts):
            raise ValueError(f"context activations={self.activations!r} must be a list of activation names")
        object.__setattr__(self, "activations", tuple(acts))
        dropout = _number("dropout", 0.0 if self.dropout is None else self.dropout)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"context dropout={self.dropout!r} must be in [0, 1)")
        object.__setattr__(self, "dropout", dropout)
        object.__setattr__(self, "regularised", bool(self.regularised))
        object.__setattr__(self, "adversarial", bool(self.adversarial))
        if self.optimizer is not None:
            object.__setattr__(self, "optimizer", str(self.optimizer).lower())
        if self.lr is not None:
            lr = _number("lr", self.lr)
            if not lr > 0:
                raise ValueError(f"context lr={self.lr!r} must be a positive number or None")
            object.__setattr__(self, "lr", lr)
        if self.data_redraw_every is not None:
            every = self.data_redraw_every
            if isinstance(every, bool) or not isinstance(every, int | float) or every != int(every) or every < 1:
                raise ValueError(f"context data_redraw_every={every!r} must be a positive whole number of steps "
                                 "or None")
            object.__setattr__(self, "data_redraw_every", int(every))
        if self.family_name is not None and not isinstance(self.family_name, str):
            raise ValueError(f"context family_name={self.family_name!r} must be a family name or None")
        family = {} if self.family is None else self.family
        if not isinstance(family, Mapping) or not all(isinstance(k, str) for k in family):
            raise ValueError(f"context family={self.family!r} must be a dict with string keys")
        object.__setattr__(self, "family", dict(family))
        object.__setattr__(self, "per_objective", _per_objective(self.per_objective or {}))

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_mapping` reads back to an equal context."""
        return {
            "activations": list(self.activations),
            "dropout": self.dropout,
            "regularised": self.regularised,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "adversarial": self.adversarial,
            "data_redraw_every": self.data_redraw_every,
            "family_name": self.family_name,
            "family": dict(self.family),
            "per_objective": {k: dict(v) for k, v in self.per_objective.items()},
        }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> DiagnoseContext:
        """A context from a dict (a caller's, or ``history.meta["context"]`` of a stored run).

        Raises ValueError naming an unknown key and the valid ones; family-specific values go under
        ``family``. Keys written by older versions of pinngen are read into their present places.
        """
        if mapping is None:
            return cls()
        if not isinstance(mapping, Mapping):
            raise ValueError(f"context={mapping!r} must be a dict, a DiagnoseContext or None")
        valid = field_names()
        kwargs: dict[str, Any] = {}
        family = dict(mapping.get("family") or {}) if isinstance(mapping.get("family"), Mapping) else None
        for key, value in mapping.items():
            if key in valid:
                kwargs[key] = value
            elif key in _LEGACY_DROPPED:
                continue
            elif key in _LEGACY_FAMILY_FLAGS:
                if value and mapping.get("family_name") is None:
                    kwargs["family_name"] = _LEGACY_FAMILY_FLAGS[key]
            elif key in _LEGACY_FAMILY_VALUES:
                if value is not None:
                    family = {key: value, **(family or {})}
                    if mapping.get("family_name") is None:
                        kwargs["family_name"] = _LEGACY_FAMILY_VALUES[key]
            else:
                raise ValueError(
                    f"context: unknown key {key!r}; valid keys: {', '.join(valid)} (family-specific values "
                    "go under 'family')"
                )
        if family is not None:
            kwargs["family"] = family
        return cls(**kwargs)

    def for_objective(self, name: str) -> DiagnoseContext:
        """This context with the values given for objective ``name`` in :attr:`per_objective` applied."""
        return replace(self, **dict(self.per_objective.get(name, {})), per_objective={})

    # ------------------------------------------------------------------ reading
    @property
    def is_regularised(self) -> bool:
        """Dropout or another training-only regulariser is active."""
        return self.regularised or self.dropout > 0


def field_names() -> list[str]:
    return [f.name for f in fields(DiagnoseContext)]


def merge_context(stored: Mapping[str, Any] | DiagnoseContext | None,
                  given: Mapping[str, Any] | DiagnoseContext | None) -> DiagnoseContext:
    """``given`` over ``stored`` (what ``fit`` kept in ``history.meta["context"]``).

    A dict is merged key by key (its ``family`` values over the stored ones); a DiagnoseContext is
    complete by construction and replaces the stored context.
    """
    if isinstance(given, DiagnoseContext):
        return given
    if given is not None and not isinstance(given, Mapping):
        raise ValueError(f"context={given!r} must be a dict, a DiagnoseContext or None")
    if isinstance(stored, DiagnoseContext):
        base = stored.to_dict()
    else:  # a malformed stored value must not stop the diagnosis of the curves themselves
        base = dict(stored) if isinstance(stored, Mapping) else {}
    merged = {**base, **(given or {})}
    if isinstance(base.get("family"), Mapping) and isinstance((given or {}).get("family"), Mapping):
        merged["family"] = {**base["family"], **given["family"]}
    return DiagnoseContext.from_mapping(merged)


def resolve_context(given: Mapping[str, Any] | DiagnoseContext | None, history) -> DiagnoseContext:
    """The context to judge ``history`` with: ``given`` over the stored one, and without an optimizer
    the last phase's name when it names a known optimizer."""
    from pinngen.core.diagnose.words import TYPICAL_LR, norm_name

    ctx = merge_context((getattr(history, "meta", None) or {}).get("context"), given)
    if ctx.optimizer is None and history is not None and history.phases:
        last = history.phases[-1]
        if norm_name(last) in TYPICAL_LR:
            ctx = replace(ctx, optimizer=last)
    return ctx


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"context {name}={value!r} must be a number")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"context {name}={value!r} must be a number") from None
    if not math.isfinite(out):
        raise ValueError(f"context {name}={value!r} must be finite")
    return out


def _per_objective(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping):
        raise ValueError(f"context per_objective={value!r} must be a dict of objective name -> dict")
    out = {}
    for name, values in value.items():
        if not isinstance(values, Mapping):
            raise ValueError(f"context per_objective[{name!r}]={values!r} must be a dict")
        unknown = sorted(set(values) - set(_PER_OBJECTIVE_KEYS))
        if unknown:
            raise ValueError(
                f"context per_objective[{name!r}]: unknown key {unknown[0]!r}; valid keys: "
                f"{', '.join(_PER_OBJECTIVE_KEYS)}"
            )
        out[str(name)] = dict(values)
    return out
