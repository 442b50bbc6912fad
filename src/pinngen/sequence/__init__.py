"""Sequence models: RNN/LSTM/GRU cells and stacks, Transformers with inspectable attention, and the forecasting,
classification, language-model and gradient-probe tasks built on them.

Curated API (imported lazily)::

    from pinngen.sequence import LSTMCell, recur, SequenceModel, Transformer, MultiHeadAttention
    from pinngen.sequence import load_series, make_windows, fit_scaler, mase, smape, rmse, fit_ar
    s = load_series("my_series.csv")                 # a date column and value columns; gaps/NaNs reported
    hs, last, gates = recur(LSTMCell(1, 32, key=key), x, return_gates=True)  # x (b, T, 1): one lax.scan
    attn = MultiHeadAttention(64, heads=4, key=key)
    out, weights = attn(h, mask=causal_mask(T))     # h (b, T, 64); weights (b, heads, T, T), one map per head

Or from the command line: ``pinngen run sunspots-lstm`` (``forecast``), ``gunpoint-transformer``
(``sequence-classify``), ``charlm-hamlet`` (``charlm``), ``vanishing-gradient`` (``gradient-probe``); then
``pinngen predict`` and ``pinngen sample RUN --prompt TEXT -n CHARS``.
"""

from importlib import import_module

_API = {
    # cells and recurrence
    "ElmanCell": "pinngen.sequence.rnn",
    "LSTMCell": "pinngen.sequence.rnn",
    "GRUCell": "pinngen.sequence.rnn",
    "make_cell": "pinngen.sequence.rnn",
    "recur": "pinngen.sequence.rnn",
    "SequenceModel": "pinngen.sequence.recurrent",
    "Bidirectional": "pinngen.sequence.recurrent",
    "lengths_to_mask": "pinngen.sequence.recurrent",
    "last_valid": "pinngen.sequence.recurrent",
    # attention and Transformers
    "MultiHeadAttention": "pinngen.sequence.attention",
    "scaled_dot_product": "pinngen.sequence.attention",
    "causal_mask": "pinngen.sequence.attention",
    "padding_mask": "pinngen.sequence.attention",
    "sinusoidal": "pinngen.sequence.attention",
    "LearnedPositions": "pinngen.sequence.attention",
    "apply_rotary": "pinngen.sequence.attention",
    "EncoderBlock": "pinngen.sequence.transformer",
    "DecoderBlock": "pinngen.sequence.transformer",
    "Transformer": "pinngen.sequence.transformer",
    "EncoderDecoder": "pinngen.sequence.transformer",
    # task models
    "ForecastNet": "pinngen.sequence.forecast_model",
    "Ensemble": "pinngen.sequence.forecast_model",
    "rollout": "pinngen.sequence.forecast_model",
    "SequenceClassifier": "pinngen.sequence.classify_model",
    "CharLM": "pinngen.sequence.charlm_model",
    # data
    "Series": "pinngen.sequence.data",
    "LabelledSeries": "pinngen.sequence.data",
    "load_series": "pinngen.sequence.data",
    "split_series": "pinngen.sequence.data",
    "fit_scaler": "pinngen.sequence.data",
    "make_windows": "pinngen.sequence.data",
    "sunspots": "pinngen.sequence.data",
    "gunpoint": "pinngen.sequence.data",
    "italy_power_demand": "pinngen.sequence.data",
    "hamlet": "pinngen.sequence.data",
    "split_text": "pinngen.sequence.data",
    "SeriesSet": "pinngen.sequence.labelled",
    "load_labelled_series": "pinngen.sequence.labelled",
    # metrics and baselines
    "mase": "pinngen.sequence.metrics",
    "smape": "pinngen.sequence.metrics",
    "rmse": "pinngen.sequence.metrics",
    "accuracy": "pinngen.sequence.metrics",
    "confusion_matrix": "pinngen.sequence.metrics",
    "seasonal_naive": "pinngen.sequence.baselines",
    "fit_ar": "pinngen.sequence.baselines",
    "ARModel": "pinngen.sequence.baselines",
    "nearest_neighbor": "pinngen.sequence.baselines",
    "dtw_distances": "pinngen.sequence.baselines",
    "euclidean_distances": "pinngen.sequence.baselines",
    "CharNGram": "pinngen.sequence.baselines",
    # insight
    "adding_problem": "pinngen.sequence.probe",
    "gradient_by_lag": "pinngen.sequence.probe",
    "probe_models": "pinngen.sequence.probe",
}

__all__ = sorted(_API)


def __getattr__(name):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'pinngen.sequence' has no attribute {name!r}")


def __dir__():
    return __all__
