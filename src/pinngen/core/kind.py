"""The typed contract an experiment kind (a model family) implements.

A kind is a :class:`Kind` value that a family module defines (``KIND = Kind(...)``) and
:mod:`pinngen.registry` names. The shared run machinery (``pinngen.run``, ``pinngen.load``, the CLI, the
report, the contract test suite) talks to a family only through these fields:

- ``Config``: the pydantic run config (a :class:`pinngen.config.RunConfig` subclass);
- ``setup(cfg) -> Setup``: model, data, loss terms and what ``fit`` needs;
- ``evaluate(cfg, setup, model, history, run_dir) -> dict``: metrics.json content (``summary``, ``tables``,
  ``notes``) and figures;
- ``template(spec) -> model``: the model's structure from its JSON spec (weights come from the checkpoint);
- ``predict(model, spec, x) -> y``: outputs in the data's original units;
- ``sample(model, spec, n, key) -> x`` (optional): ``n`` draws in the data's units;
- ``log_prob(model, spec, x) -> (n,)`` (optional): exact, or a stated bound;
- ``generate(model, spec, prompt, n_chars, temperature=, top_k=, key=) -> str`` (optional): text models;
- ``headline(metrics) -> str`` (optional): the one-sentence answer the report leads with;
- ``lead_tables``: title prefixes of the tables the report shows right after the headline, before the
  diagnosis: ``metrics["tables"]`` entries, ``Identified unknowns``, and tables the report makes of
  list/dict metrics (``per_class_accuracy`` -> ``Per class accuracy``);
- ``contract_config``: a small, fast config (a dict, merged over the kind's defaults) the contract test
  suite trains: registering a kind is enough to have it checked. ``None`` for a kind that only orchestrates
  other runs (``generative-compare``): it has no model of its own to check, and its own tests cover it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class CannotSample(ValueError):
    """A kind without ``sample``/``log_prob`` was asked for one (a user error: one line, exit 2)."""


@dataclass(frozen=True)
class Kind:
    """One model family's implementation of the run contract (see the module docstring)."""

    name: str
    Config: type
    setup: Callable[..., Any]
    evaluate: Callable[..., dict]
    template: Callable[..., Any]
    predict: Callable[..., Any]
    sample: Callable[..., Any] | None = None
    log_prob: Callable[..., Any] | None = None
    generate: Callable[..., str] | None = None
    headline: Callable[[dict], str] | None = None
    lead_tables: tuple[str, ...] = ()
    contract_config: dict | None = field(default_factory=dict)
    description: str = ""
    # ``predict`` reads NaN itself (a NaN tail marks a shorter series in a batch of variable-length ones); the CLI
    # then passes NaN through instead of refusing the file.
    predict_reads_nan: bool = False

    @property
    def can_sample(self) -> bool:
        return self.sample is not None

    @property
    def has_log_prob(self) -> bool:
        return self.log_prob is not None
