"""History: what happened during training, one row per optimizer step.

Columns (all float, NaN where a value was not recorded at that step):

* ``loss``            the total (weighted) training objective
* ``loss/<term>``     each named loss term, unweighted, as returned by ``loss_terms``
* ``lr``              learning rate used at that step
* ``grad_norm``       global L2 norm of the gradient
* ``val/<metric>``    validation metrics (``val/loss``, ``val/loss/<term>``, ...), recorded every ``eval_every`` steps
* ``time``            seconds since the start of training
* any other name      e.g. ``unknown/<name>`` for the history of identified PDE parameters

``phase`` is a separate list of strings (the optimizer phase of each row, e.g. ``"adam"``, ``"lbfgs"``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from pinngen.core.io import atomic_write_text


class History:
    """Column store of per-step training records.

    Rows are appended in chunks (``extend``) so the training loop never syncs with the device per step.
    """

    def __init__(self) -> None:
        self._steps: list[np.ndarray] = []
        self._phases: list[str] = []
        self._cols: dict[str, list[np.ndarray]] = {}
        self._n = 0
        self.meta: dict = {}

    # ------------------------------------------------------------------ building
    def extend(self, steps: Iterable[int], phase: str, columns: Mapping[str, np.ndarray]) -> None:
        """Append ``len(steps)`` rows; ``columns`` maps a name to an array of that length."""
        steps = np.asarray(list(steps) if not isinstance(steps, np.ndarray) else steps, dtype=np.int64)
        n = steps.shape[0]
        if n == 0:
            return
        for name, values in columns.items():
            values = np.asarray(values, dtype=np.float64).reshape(-1)
            if values.shape[0] != n:
                raise ValueError(f"column {name!r} has {values.shape[0]} values for {n} steps")
            if name not in self._cols:
                self._cols[name] = [np.full(self._n, np.nan)]
            self._cols[name].append(values)
        for name, parts in self._cols.items():
            if name not in columns:
                parts.append(np.full(n, np.nan))
        self._steps.append(steps)
        self._phases.extend([phase] * n)
        self._n += n

    def record(self, step: int, values: Mapping[str, float]) -> None:
        """Set values at an existing step (e.g. validation metrics at an eval step), or append a row."""
        idx = np.nonzero(self.steps == step)[0]
        if idx.size == 0:
            self.extend([step], self._phases[-1] if self._phases else "", {k: [v] for k, v in values.items()})
            return
        i = int(idx[-1])
        for name, value in values.items():
            if name not in self._cols:
                self._cols[name] = [np.full(self._n, np.nan)]
            col = self._consolidate(name)
            col[i] = float(value)

    def _consolidate(self, name: str) -> np.ndarray:
        parts = self._cols[name]
        if len(parts) != 1:
            self._cols[name] = [np.concatenate(parts)]
        return self._cols[name][0]

    def subset(self, keep, *, strip_prefix: str = "", rebase: bool = False) -> History:
        """The rows whose phase passes ``keep(phase)`` (phases with ``strip_prefix`` removed), same steps, or
        with ``rebase`` steps counted from the first kept row (a marching window's own step numbers)."""
        mask = np.array([bool(keep(p)) for p in self._phases], dtype=bool)
        out = History()
        out.meta = dict(self.meta)
        if not mask.any():
            return out
        steps, phases = self.steps[mask], [p for p, m in zip(self._phases, mask, strict=True) if m]
        if rebase:
            steps = steps - steps[0]
        cols = {c: self.column(c)[mask] for c in self.columns}
        for a, b in phase_runs(phases):
            out.extend(steps[a:b], phases[a].removeprefix(strip_prefix), {c: v[a:b] for c, v in cols.items()})
        return out

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> np.ndarray:
        if len(self._steps) > 1:
            self._steps = [np.concatenate(self._steps)]
        return self._steps[0] if self._steps else np.zeros(0, dtype=np.int64)

    @property
    def phases(self) -> list[str]:
        return list(self._phases)

    @property
    def columns(self) -> list[str]:
        return list(self._cols)

    def __contains__(self, name: str) -> bool:
        return name in self._cols

    def column(self, name: str) -> np.ndarray:
        """The full column (NaN where not recorded). Raises KeyError listing the known columns."""
        if name not in self._cols:
            raise KeyError(f"no column {name!r} in history; known: {', '.join(self.columns)}")
        return self._consolidate(name)

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of one column where it was recorded (NaNs from 'not recorded' dropped).

        The training loop stores a non-finite value that it *did* record (a diverged loss) as +inf, so NaN
        always means "not recorded" and diagnosis still sees the divergence.
        """
        values = self.column(name)
        recorded = ~np.isnan(values)
        return self.steps[recorded], values[recorded]

    def term_names(self) -> list[str]:
        """Names of the training loss terms (columns ``loss/<term>``), without the per-objective totals
        ``loss/<objective>`` of a multi-objective run (``meta["objectives"]``)."""
        objectives = self.meta.get("objectives") or {}
        names = [c.split("/", 1)[1] for c in self._cols if c.startswith("loss/")]
        return [n for n in names if n not in objectives]

    def val_names(self) -> list[str]:
        return [c.split("/", 1)[1] for c in self._cols if c.startswith("val/")]

    def last(self, name: str) -> float:
        _, v = self.series(name)
        return float(v[-1]) if v.size else math.nan

    def diagnose(self, **kwargs):
        """Findings about these curves; see :func:`pinngen.core.diagnose.diagnose`."""
        from pinngen.core.diagnose import diagnose

        return diagnose(self, **kwargs)

    # ------------------------------------------------------------------ io
    def to_csv(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_csv_text())

    def to_csv_text(self) -> str:
        names = self.columns
        cols = [self.column(n) for n in names]
        lines = [",".join(["step", "phase", *names])]
        steps = self.steps
        for i in range(self._n):
            vals = [_fmt(c[i]) for c in cols]
            lines.append(",".join([str(int(steps[i])), self._phases[i], *vals]))
        return "\n".join(lines) + "\n"

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> History:
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                text = fh.read()
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); the history is corrupted") from None
        h = cls.from_csv_text(text, str(path))
        meta_path = Path(path).with_suffix(".meta.json")
        if meta_path.exists():
            from pinngen.report.rundir import read_json

            h.meta = read_json(meta_path)
        return h

    @classmethod
    def from_csv_text(cls, text: str, source: str = "history") -> History:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None) or []
        rows = list(reader)
        path = source
        if header[:2] != ["step", "phase"]:
            raise ValueError(f"{path}: not a pinngen history CSV (header starts {header[:2]})")
        h = cls()
        if not rows:
            return h
        names = header[2:]
        for line, r in enumerate(rows, start=2):
            if len(r) != len(header) or not r[0].strip().lstrip("-").isdigit():
                raise ValueError(f"{path}: line {line} has {len(r)} fields (the header has {len(header)}) or no "
                                 "integer step; the history is truncated or corrupted")
        try:
            steps = np.array([int(r[0]) for r in rows], dtype=np.int64)
            data = np.array([[_parse(v) for v in r[2:]] for r in rows], dtype=np.float64).reshape(len(rows), -1)
        except (ValueError, OverflowError) as err:
            raise ValueError(f"{path}: unreadable value ({err}); the history is corrupted") from None
        phases = [r[1] for r in rows]
        # Re-group consecutive rows of the same phase so phases survive the round trip.
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or phases[i] != phases[start]:
                h.extend(steps[start:i], phases[start], {n: data[start:i, j] for j, n in enumerate(names)})
                start = i
        return h

    def to_json(self, path: str | os.PathLike) -> None:
        """Columns and meta as JSON (``null`` where not recorded, ``"inf"`` for recorded non-finite values)."""
        atomic_write_text(path, json.dumps({"meta": self.meta, "columns": self.to_dict()}, default=str))

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> History:
        d = json.loads(Path(path).read_text())
        cols = d["columns"]
        h = cls()
        steps, phases = np.asarray(cols.pop("step"), np.int64), cols.pop("phase")
        data = {n: np.array([math.nan if v is None else float(v) for v in vals]) for n, vals in cols.items()}
        start = 0
        for i in range(1, len(steps) + 1):
            if i == len(steps) or phases[i] != phases[start]:
                h.extend(steps[start:i], phases[start], {n: v[start:i] for n, v in data.items()})
                start = i
        h.meta = d.get("meta", {})
        return h

    def to_dict(self) -> dict:
        return {
            "step": self.steps.tolist(),
            "phase": self.phases,
            **{n: [None if math.isnan(v) else (v if math.isfinite(v) else str(v)) for v in self.column(n).tolist()]
               for n in self.columns},
        }


def phase_runs(phases: list[str]) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal consecutive phase names."""
    out, start = [], 0
    for i in range(1, len(phases) + 1):
        if i == len(phases) or phases[i] != phases[start]:
            out.append((start, i))
            start = i
    return out


def _fmt(v: float) -> str:
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def _parse(s: str) -> float:
    if s == "":
        return math.nan
    return float(s)
