"""Physics-informed neural networks: problems, conditions, the PINN model and its training pieces.

Curated API (imported lazily)::

    from pinngen.pinn import Problem, Dirichlet, InitialValue, PINN, get_problem
    problem = get_problem("burgers")                 # or Problem(name=..., inputs=..., residual=...)
    model = PINN(problem, hidden=[20] * 8, key=jax.random.PRNGKey(0))
    loss_terms = make_loss_terms(problem)            # {"pde": ..., "bc": ..., "ic": ...}
    batch = Collocation(problem, CollocationSpec(n_domain=4000)).batch()
    model, history = pinngen.fit(model, batch, config, loss_terms=loss_terms)

Or from the command line: ``pinngen run burgers`` (the ``pinn`` experiment kind).
"""

from importlib import import_module

_API = {
    "Problem": "pinngen.pinn.problem",
    "Parameter": "pinngen.pinn.problem",
    "Reference": "pinngen.pinn.problem",
    "known": "pinngen.pinn.problem",
    "unknown": "pinngen.pinn.problem",
    "Dirichlet": "pinngen.pinn.conditions",
    "Neumann": "pinngen.pinn.conditions",
    "Robin": "pinngen.pinn.conditions",
    "Periodic": "pinngen.pinn.conditions",
    "InitialValue": "pinngen.pinn.conditions",
    "InitialRate": "pinngen.pinn.conditions",
    "Observations": "pinngen.pinn.conditions",
    "OutputTransform": "pinngen.pinn.conditions",
    "hard_initial": "pinngen.pinn.conditions",
    "hard_dirichlet": "pinngen.pinn.conditions",
    "add_noise": "pinngen.pinn.conditions",
    "PINN": "pinngen.pinn.network",
    "Collocation": "pinngen.pinn.collocation",
    "CollocationSpec": "pinngen.pinn.collocation",
    "Adaptive": "pinngen.pinn.collocation",
    "make_refresh": "pinngen.pinn.collocation",
    "WeightingSpec": "pinngen.pinn.weighting",
    "Causal": "pinngen.pinn.weighting",
    "make_weight_update": "pinngen.pinn.weighting",
    "make_loss_terms": "pinngen.pinn.loss",
    "causal_weights": "pinngen.pinn.loss",
    "get_problem": "pinngen.pinn.problems",
    "Marching": "pinngen.pinn.marching",
    "MarchingSpec": "pinngen.pinn.marching",
    "window_problem": "pinngen.pinn.marching",
    "PROBLEMS": "pinngen.pinn.problems",
}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'pinngen.pinn' has no attribute {name!r}")


def __dir__():
    return __all__
