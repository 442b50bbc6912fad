"""Run configs: YAML files validated by pydantic, with ``--set a.b=c`` overrides.

Every experiment kind defines a config class deriving from :class:`RunConfig`; validation errors become a
one-line :class:`ConfigError` that names the field, what was wrong, and what is allowed.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from pinngen.core.train import TrainConfig

EXPERIMENTS_DIR = Path(__file__).parent / "experiments"


class ConfigError(ValueError):
    """A bad config: the message is one line naming the field and the fix."""


class RunConfig(BaseModel):
    """Fields every run has. Kinds add ``model``, ``data`` and their own sections."""

    model_config = ConfigDict(extra="forbid")
    kind: str
    name: str = "run"
    description: str = ""
    seed: int = Field(0, ge=0)
    dtype: Literal["float32", "float64"] = "float32"
    train: TrainConfig = Field(default_factory=TrainConfig)
    diagnose: dict[str, float] = Field(default_factory=dict, description="threshold overrides for diagnose()")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml"))


def read_raw(source: str | os.PathLike | dict) -> dict:
    """A config as a plain dict, from a built-in name, a YAML path, or a dict."""
    if isinstance(source, dict):
        return copy.deepcopy(source)
    src = str(source)
    path = Path(src)
    if not path.exists():
        builtin = EXPERIMENTS_DIR / f"{src}.yaml"
        if builtin.exists():
            path = builtin
        elif src.endswith((".yaml", ".yml")):
            raise ConfigError(f"config file not found: {src}")
        else:
            raise ConfigError(f"no built-in experiment or config file named {src!r}; "
                              f"built-in: {', '.join(builtin_names())} (see `pinngen list`)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {getattr(e, 'problem', e)}") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror or e}); give a YAML file") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to read; a config is a few levels of mappings and "
                          "lists") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save the config as UTF-8") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping of keys to values")
    try:
        size = _expanded_size(raw)
    except RecursionError:
        size = MAX_CONFIG_VALUES + 1
    if size > MAX_CONFIG_VALUES:
        raise ConfigError(f"{path}: more than {MAX_CONFIG_VALUES:,} values once YAML aliases (*name) are expanded; "
                          "a config never needs that many: write the values out, or nest aliases less")
    return raw


MAX_CONFIG_VALUES = 1_000_000


def _expanded_size(node, memo=None) -> int:
    """How many values ``node`` holds with every shared (aliased) part counted each time it appears: linear in
    the distinct nodes, so a 'billion laughs' document is measured without being expanded."""
    memo = {} if memo is None else memo
    if not isinstance(node, (dict, list)):
        return 1
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = MAX_CONFIG_VALUES + 1  # a cycle (a recursive alias) counts as too large
    children = list(node.values()) + list(node.keys()) if isinstance(node, dict) else node
    total = 1
    for child in children:
        total += _expanded_size(child, memo)
        if total > MAX_CONFIG_VALUES:
            break
    memo[id(node)] = total
    return total


def apply_overrides(raw: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Apply ``a.b.c=value`` overrides (value parsed as YAML; list indices allowed: ``train.phases.0.lr=1e-3``)."""
    out = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. train.phases.0.lr=0.001")
        dotted, text = item.split("=", 1)
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        node = out
        parts = dotted.strip().split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"--set {dotted}: {part!r} is not an index of a list of {len(node)}")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ConfigError(f"--set {dotted}: {'.'.join(parts[:i])} is a value, not a section")
    return out


def format_validation_error(err: ValidationError, cls: type[BaseModel]) -> str:
    """First error of a pydantic ValidationError as one line: ``field.path: problem``."""
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"]) or "<root>"
    msg = e["msg"]
    if e["type"] == "extra_forbidden":
        parent = _model_at(cls, e["loc"][:-1])
        valid = f" (valid keys: {', '.join(parent.model_fields)})" if parent is not None else ""
        return f"config error: {loc}: unknown key{valid}"
    if e["type"] == "missing":
        return f"config error: {loc}: required field is missing"
    given = e.get("input")
    given_txt = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
    extra = f" [+{len(err.errors()) - 1} more]" if len(err.errors()) > 1 else ""
    return f"config error: {loc}: {msg}{given_txt}{extra}"


def _model_at(cls, loc):
    node = cls
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(node, type) and issubclass(node, BaseModel)) or part not in node.model_fields:
            return None
        ann = node.model_fields[part].annotation
        node = _unwrap(ann)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _unwrap(ann):
    args = getattr(ann, "__args__", None)
    if args:
        for a in args:
            inner = _unwrap(a)
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return ann


def validate(raw: dict, cls: type[RunConfig]) -> RunConfig:
    try:
        return cls.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, cls)) from None


def load_config(source, overrides=(), *, seed: int | None = None) -> RunConfig:
    """Read, override and validate a config against its kind's schema."""
    from pinngen.registry import get_kind

    raw = apply_overrides(read_raw(source), list(overrides))
    if overrides:
        try:
            size = _expanded_size(raw)
        except RecursionError:
            size = MAX_CONFIG_VALUES + 1
        if size > MAX_CONFIG_VALUES:
            raise ConfigError(f"--set: more than {MAX_CONFIG_VALUES:,} values once YAML aliases are expanded; "
                              "give plain values")
    if seed is not None:
        raw["seed"] = seed
    if "kind" not in raw:
        raise ConfigError("config error: kind: required field is missing "
                          "(e.g. kind: dense; see `pinngen list`)")
    if not isinstance(raw["kind"], str):
        raise ConfigError(f"config error: kind: {raw['kind']!r} is not a name; give one of the kinds "
                          "(e.g. kind: dense; see `pinngen list`)")
    kind = get_kind(raw["kind"])
    return validate(raw, kind.Config)


def dump_config(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)


def one_of(what: str, choices) -> Callable[[str], str]:
    """A pydantic after-validator: ``value`` must be a key of ``choices`` (the error lists them)."""

    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(sorted(choices))}")
        return value

    return check


def _names():
    from pinngen.core.nn import ACTIVATIONS, INITIALISERS

    return ACTIVATIONS, INITIALISERS


_ACTS, _INITS = _names()
ActivationName = Annotated[str, AfterValidator(one_of("activation", _ACTS))]
InitName = Annotated[str, AfterValidator(one_of("init", _INITS))]
