"""Several objectives in one run (a GAN's generator and discriminator): each its own curve.

A multi-objective run records ``history.meta["objectives"] = {name: [term, ...]}``, a column
``loss/<name>`` per objective (its weighted total), ``loss/<term>`` per term, and ``lr/<name>``,
``grad_norm/<name>`` (optionally ``val/loss/<name>``). The column ``loss`` is then the sum of objectives
that pull against each other, so it says nothing about either; each objective is judged on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pinngen.core.history import History, phase_runs


def objectives_of(history) -> dict[str, list[str]]:
    """``{objective: [term, ...]}`` from ``history.meta["objectives"]`` ({} when absent); a malformed
    entry raises ValueError naming it."""
    raw = (getattr(history, "meta", None) or {}).get("objectives") or {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"history.meta['objectives']={raw!r} must map objective names to lists of terms")
    out = {}
    for name, terms in raw.items():
        if isinstance(terms, str) or not all(isinstance(t, str) for t in terms or []):
            raise ValueError(f"history.meta['objectives'][{name!r}]={terms!r} must be a list of term names")
        out[str(name)] = list(terms or [])
    return out


def objective_history(history: History, name: str, terms: list[str]) -> History:
    """The run as seen by objective ``name``: its total as ``loss``, its terms, its ``lr`` and
    ``grad_norm`` (the shared ``lr`` when it has none of its own), its validation loss as ``val/loss``, and
    the run's ``metric/*`` columns."""
    wanted = {"loss": f"loss/{name}", "lr": f"lr/{name}", "grad_norm": f"grad_norm/{name}",
              "val/loss": f"val/loss/{name}"}
    for term in terms:
        wanted[f"loss/{term}"] = f"loss/{term}"
        wanted[f"val/loss/{term}"] = f"val/loss/{term}"
    if wanted["lr"] not in history and "lr" in history:
        wanted["lr"] = "lr"
    # The run's tracked metrics belong to every objective: family checks judge a GAN's players by them.
    wanted.update({c: c for c in history.columns if c.startswith("metric/")})
    columns = {new: history.column(old) for new, old in wanted.items() if old in history}
    out = History()
    steps, phases = history.steps, history.phases
    for a, b in phase_runs(phases):
        out.extend(steps[a:b], phases[a], {c: np.asarray(v[a:b]) for c, v in columns.items()})
    out.meta = {k: v for k, v in history.meta.items() if k != "objectives"}
    out.meta["term_names"] = list(terms)
    return out


def objective_series(series: str, name: str) -> str:
    """A finding's series in the objective's history, named as in the whole run's."""
    return {"loss": f"loss/{name}", "val/loss": f"val/loss/{name}"}.get(series, series)


def objective_label(name: str) -> str:
    """'Generator' for 'generator', 'Critic 2' for 'critic_2': the prefix of that objective's messages."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
