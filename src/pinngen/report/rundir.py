"""The one reader of run folders (the hand-off between training, CLI and report), and value formatting.

A run folder holds ``metrics.json`` (required) and, optionally, ``config.yaml``, ``history.csv`` (with
``history.meta.json``), ``findings.json`` and ``figures/*.png`` with ``figures/captions.json``.
:func:`load_run` reads everything for the report: what is optional and missing is simply absent from
:class:`RunData`; only a missing folder or ``metrics.json`` is an error. The ``read_*`` functions read one
file each; :class:`pinngen.runs.Run`'s properties are these same functions, so there is one reader.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pinngen.core.findings import SEVERITIES, Finding
from pinngen.core.history import History

log = logging.getLogger(__name__)

# Keys of metrics.json that are rendered in their own section, not in the flat metrics table.
SPECIAL_KEYS = ("experiment", "kind", "tables", "notes", "unknowns", "date")


@dataclass
class RunData:
    """The contents of one run folder."""

    path: Path
    metrics: dict
    config_text: str | None = None
    history: History | None = None
    findings: list[Finding] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)  # loss curves first
    captions: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # optional files that could not be read

    @property
    def experiment(self) -> str:
        return str(self.metrics.get("experiment") or self.path.name)

    @property
    def kind(self) -> str:
        return str(self.metrics.get("kind") or "")

    @property
    def date(self) -> str:
        """The run's date: ``metrics["date"]`` if given, else the modification time of metrics.json."""
        if self.metrics.get("date"):
            return str(self.metrics["date"])
        mtime = (self.path / "metrics.json").stat().st_mtime
        return datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M")

    def caption(self, figure: Path) -> str:
        if figure.name in self.captions:
            return str(self.captions[figure.name])
        return figure.stem.replace("_", " ").replace("-", " ").capitalize()


def read_json(path: Path, what: str = "JSON"):
    """A JSON file's value; a one-line ``ValueError`` naming the file for unreadable, non-UTF-8 or invalid JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except OSError as err:
        raise ValueError(f"{path}: cannot read it ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); the file is corrupted") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid {what}: {err}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a pinngen file; it is corrupted") from None


def read_yaml(path: Path):
    """A YAML file's value (safe loader); a one-line ``ValueError`` naming the file (and line) otherwise."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except OSError as err:
        raise ValueError(f"{path}: cannot read it ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text (byte {err.start}); the file is corrupted") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ValueError(f"{path}: invalid YAML{where}: {getattr(err, 'problem', None) or err}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a pinngen file; it is corrupted") from None


def load_run(run_dir: str | os.PathLike) -> RunData:
    """Read a run folder.

    Raises FileNotFoundError naming the path if the folder or its metrics.json is missing.
    """
    path = Path(run_dir)
    run = RunData(path=path, metrics=read_metrics(path))
    config_path = path / "config.yaml"
    if config_path.is_file():
        run.config_text = config_path.read_text()
    if (path / "history.csv").is_file():
        try:
            run.history = read_history(path)
        except (ValueError, IndexError, StopIteration) as err:
            run.problems.append(f"history.csv could not be read: {err}")
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # error, warning, info
    run.findings = sorted(read_findings(path, run.problems), key=lambda f: order[f.severity])
    run.figures, run.captions = _load_figures(path / "figures", run.problems)
    return run


# ---------------------------------------------------------------------------------------------- one file each
def read_metrics(run_dir: str | os.PathLike) -> dict:
    """``metrics.json`` as a dict; FileNotFoundError (one line, naming the path) if the folder or file is missing."""
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"run folder not found: {path}")
    metrics_path = path / "metrics.json"
    if not metrics_path.is_file():
        raise FileNotFoundError(
            f"{metrics_path} not found: a run folder needs metrics.json (written at the end of training)"
        )
    metrics = read_json(metrics_path)
    if not isinstance(metrics, dict):
        raise ValueError(f"{metrics_path}: expected a JSON object, got {type(metrics).__name__}")
    return metrics


def read_config_dict(run_dir: str | os.PathLike) -> dict:
    """``config.yaml`` as plain data (not validated: a config of a kind that is not installed still reads)."""

    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{Path(run_dir)}: not a run folder (no config.yaml); "
                                "pass the folder that `pinngen run` wrote")
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise ValueError(f"{path}: expected a run config with a 'kind'")
    return raw


def read_config(run_dir: str | os.PathLike):
    """``config.yaml`` validated against its kind's schema (a :class:`pinngen.config.RunConfig`)."""
    from pinngen.config import validate
    from pinngen.registry import get_kind

    raw = read_config_dict(run_dir)
    return validate(raw, get_kind(raw["kind"]).Config)


def read_history(run_dir: str | os.PathLike) -> History:
    """``history.csv`` with ``history.meta.json`` as ``History.meta`` (``{}`` if that file is missing)."""
    path = Path(run_dir) / "history.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the run has no training history")
    history = History.from_csv(path)
    meta = Path(run_dir) / "history.meta.json"
    if not history.meta and meta.is_file():
        history.meta = read_json(meta)
        if not isinstance(history.meta, dict):
            raise ValueError(f"{meta}: expected a JSON object, got {type(history.meta).__name__}")
    return history


def read_findings(run_dir: str | os.PathLike, problems: list[str] | None = None) -> list[Finding]:
    """``findings.json`` in file order; ``[]`` if missing. Unreadable entries are skipped and described in
    ``problems`` (or logged, without it): a damaged optional file must not hide the rest of a run."""
    path = Path(run_dir) / "findings.json"
    if not path.is_file():
        return []
    found: list[str] = [] if problems is None else problems
    try:
        raw = read_json(path)
    except ValueError as err:
        found.append(str(err))
        raw = []
    findings = []
    for item in raw if isinstance(raw, list) else []:
        try:
            findings.append(Finding.from_dict(item))
        except (TypeError, ValueError, AttributeError) as err:
            found.append(f"findings.json: skipped an entry that is not a Finding ({err})")
    if problems is None:
        for problem in found:
            log.warning("%s: %s", Path(run_dir), problem)
    return findings


def _load_figures(folder: Path, problems: list[str]) -> tuple[list[Path], dict[str, str]]:
    if not folder.is_dir():
        return [], {}
    figures = sorted(folder.glob("*.png"), key=lambda p: (not p.name.lower().startswith("loss"), p.name))
    captions: dict[str, str] = {}
    captions_path = folder / "captions.json"
    if captions_path.is_file():
        try:
            loaded = json.loads(captions_path.read_text())
            captions = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
        except json.JSONDecodeError as err:
            problems.append(f"figures/captions.json is not valid JSON: {err}")
    return figures, captions


# ---------------------------------------------------------------------------------------------- metrics
def flatten_metrics(metrics: Mapping, prefix: str = "", skip: tuple[str, ...] = SPECIAL_KEYS) -> dict:
    """Nested dicts of scalars -> ``{"a.b.c": value}``; ``skip`` applies to top-level keys only.

    ``summary`` comes first so the headline numbers lead the table.
    """
    items = list(metrics.items())
    if not prefix:
        items.sort(key=lambda kv: kv[0] != "summary")
    flat: dict = {}
    for key, value in items:
        if not prefix and key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, prefix=f"{name}.", skip=()))
        else:
            flat[name] = value
    return flat


def key_metrics(metrics: Mapping) -> dict:
    """The headline numbers: the flattened ``summary`` if there is one, else every flattened metric."""
    summary = metrics.get("summary")
    if isinstance(summary, Mapping) and summary:
        return flatten_metrics(summary, skip=())
    return flatten_metrics(metrics)


def format_value(value) -> str:
    """Numbers with 4 significant digits (scientific below 1e-3); other values as text."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        if len(value) <= 8:
            return "[" + ", ".join(format_value(v) for v in value) + "]"
        return f"[{len(value)} values]"
    return str(value)


def unknown_rows(unknowns) -> list[tuple[str, object, object, object]]:
    """Unknowns (``{"name": {"value", "true", "rel_error"}}`` or ``{"name": value}``) as table rows."""
    rows = []
    if not isinstance(unknowns, Mapping):
        return rows
    for name, entry in unknowns.items():
        if isinstance(entry, Mapping):
            rows.append((str(name), entry.get("value"), entry.get("true"), entry.get("rel_error")))
        else:
            rows.append((str(name), entry, None, None))
    return rows
