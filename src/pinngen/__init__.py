"""pinngen: physics-informed and generative neural networks for science (JAX + Equinox + Optax).

Curated public API (imported lazily, so ``pinngen list`` does not load JAX)::

    import pinngen
    run = pinngen.run("dense-diabetes")          # train a built-in experiment, write runs/NAME/
    run = pinngen.load("runs/dense-diabetes")    # reopen it: .config .history .metrics .findings .model
    run.predict(x)                               # outputs in original units
    model, history = pinngen.fit(model, data, config, loss_terms=...)
    history.diagnose()                           # the loss curves in words
    pinngen.compare(["runs/a", "runs/b"])        # one HTML page comparing runs
"""

from importlib import import_module

__version__ = "0.1.0"

_API = {
    "run": "pinngen.runs",
    "load": "pinngen.runs",
    "Run": "pinngen.runs",
    "fit": "pinngen.core.train",
    "TrainConfig": "pinngen.core.train",
    "Phase": "pinngen.core.optim",
    "EarlyStopping": "pinngen.core.optim",
    "Group": "pinngen.core.optim",
    "FitResult": "pinngen.core.train",
    "EMASpec": "pinngen.core.train",
    "WeightSchedule": "pinngen.core.weights",
    "BatchingSpec": "pinngen.core.batching",
    "pad_sequences": "pinngen.core.batching",
    "DiagnoseContext": "pinngen.core.diagnose",
    "Kind": "pinngen.core.kind",
    "History": "pinngen.core.history",
    "Finding": "pinngen.core.findings",
    "diagnose": "pinngen.core.diagnose",
    "MLP": "pinngen.core.nn",
    "FourierFeatures": "pinngen.core.nn",
    "PeriodicEmbedding": "pinngen.core.nn",
    "advise": "pinngen.core.advisor",
    "lr_find": "pinngen.core.lr_find",
    "lr_find_experiment": "pinngen.api",
    "compare": "pinngen.report.compare",
    "RunConfig": "pinngen.config",
    "ConfigError": "pinngen.config",
    "load_config": "pinngen.config",
}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'pinngen' has no attribute {name!r}")


def __dir__():
    return __all__
