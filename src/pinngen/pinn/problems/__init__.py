"""Library problems: one factory per file, each returning a :class:`pinngen.pinn.problem.Problem` with an
independent reference from :mod:`pinngen.pinn.reference`.

``get_problem(name, **options)`` builds one; ``PROBLEMS`` maps names to ``module:function``.
"""

from __future__ import annotations

import importlib
import inspect

PROBLEMS = {
    "burgers": "burgers:burgers",
    "burgers_inverse": "burgers_inverse:burgers_inverse",
    "heat": "heat:heat",
    "poisson": "poisson:poisson",
    "wave": "wave:wave",
    "helmholtz": "helmholtz:helmholtz",
    "allen_cahn": "allen_cahn:allen_cahn",
    "kdv": "kdv:kdv",
    "kovasznay": "kovasznay:kovasznay",
    "cavity": "cavity:cavity",
}


def factory(name: str):
    """The factory function of a library problem."""
    key = name.replace("-", "_")
    if key not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; choose one of {', '.join(sorted(PROBLEMS))}")
    module, fn = PROBLEMS[key].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), fn)


def options(name: str) -> dict:
    """{option: default} accepted by a library problem's factory."""
    sig = inspect.signature(factory(name))
    return {k: p.default for k, p in sig.parameters.items() if p.kind == p.KEYWORD_ONLY}


def get_problem(name: str, **opts):
    """Build a library problem; an unknown option raises ValueError listing the valid ones."""
    valid = options(name)
    bad = sorted(set(opts) - set(valid))
    if bad:
        raise ValueError(f"problem {name!r}: unknown option(s) {bad}; valid options: {', '.join(valid) or 'none'}")
    return factory(name)(**opts)
