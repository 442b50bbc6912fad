"""The Finding record that diagnose() returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Finding:
    """One statement about a run's loss curves.

    ``code`` is a stable identifier (``still_learning``, ``converged``, ``overfitting``, ``diverged``,
    ``unstable``, ``jumps``, ``val_below_train``, ``terms_imbalanced``, ``term_stalled``, ...);
    ``step`` is where the finding applies (None when it concerns the whole run);
    ``message`` is one sentence for a person; ``hint`` says what to try.
    """

    code: str
    severity: str
    message: str
    hint: str = ""
    step: int | None = None
    series: str = "loss"

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity={self.severity!r}; choose one of {SEVERITIES}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Finding:
        return cls(**{k: d[k] for k in ("code", "severity", "message", "hint", "step", "series") if k in d})

    def __str__(self) -> str:
        at = f" (step {self.step})" if self.step is not None else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"[{self.severity}] {self.code}{at}: {self.message}{hint}"
