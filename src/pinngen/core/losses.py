"""Loss functions and output activations, plus numerically stable fused (activation, loss) pairs.

Every loss is a pure function ``loss(pred, target) -> scalar``: the mean over the batch (and, for the
element-wise losses, over output units too). ``pred`` is what the network outputs *after* its output
activation.

Shapes
------
* element-wise losses (``mse``, ``mae``, ``msle``, ``huber``, ``binary_crossentropy``, ``poisson``):
  ``pred`` and ``target`` have the same shape, e.g. ``(n,)`` or ``(n, d)``. A trailing axis of length 1
  on either side is matched (``(n, 1)`` against ``(n,)``); any other shape difference raises
  ``ValueError`` instead of silently broadcasting to ``(n, n)``.
* distribution losses (``categorical_crossentropy``, ``sparse_categorical_crossentropy``,
  ``kl_divergence``): ``pred`` is ``(n, k)``, one probability distribution per row over the last axis;
  the per-row sum over classes is averaged over the batch.
* ``gaussian_nll``: ``pred`` is ``(n, 2 d)`` = ``[mean, log_variance]``, ``target`` is ``(n, d)``.

Probabilities are clipped to ``[EPS, 1 - EPS]`` before a logarithm, as Keras does, so the un-fused
losses stay finite; but clipping also zeroes the gradient there. Train from the raw last-layer output
with :func:`output_loss` instead: for sigmoid + binary cross-entropy and softmax + (categorical
cross-entropy | KL divergence) it uses the log-sigmoid / log-softmax form, which is exact and finite for
any logit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

Array = jax.Array
LossFn = Callable[[Array, Array], Array]

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before a log, as in Keras

# --------------------------------------------------------------------------- helpers


def _choose(kind: str, name: str, table: dict) -> Callable:
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown {kind} {name!r}; choose one of {sorted(table)}") from None


def _as_float(pred, target) -> tuple[Array, Array]:
    pred, target = jnp.asarray(pred), jnp.asarray(target)
    dtype = jnp.result_type(pred.dtype, jnp.float32)  # at least float32, float64 kept under x64
    return pred.astype(dtype), target.astype(dtype)


def _paired(pred, target) -> tuple[Array, Array]:
    """Float arrays of one shape; refuses shapes that would broadcast into a silent (n, n) loss."""
    pred, target = _as_float(pred, target)
    if target.shape == pred.shape or target.ndim == 0:
        return pred, target
    if target.shape + (1,) == pred.shape:
        return pred, target[..., None]
    if pred.shape + (1,) == target.shape:
        return pred, target[..., 0]
    raise ValueError(
        f"pred has shape {pred.shape} but target has shape {target.shape}; they must match "
        "(up to a trailing axis of length 1), since broadcasting them would average the wrong pairs"
    )


def _classes(pred, target) -> tuple[Array, Array, bool]:
    """``(pred, target, is_labels)``: labels when ``target`` lacks the class axis of ``pred``.

    * ``target.shape == pred.shape``: one-hot rows or probabilities (any dtype, cast to float).
    * ``target.shape == pred.shape[:-1]`` (or with a trailing 1): integer class indices in ``[0, k)``;
      float-typed labels (e.g. read from CSV) are rounded to integers.
    """
    pred = jnp.asarray(pred)
    pred = pred.astype(jnp.result_type(pred.dtype, jnp.float32))
    target = jnp.asarray(target)
    if target.shape == pred.shape:
        return pred, target.astype(pred.dtype), False
    if pred.ndim >= 1 and target.shape in (pred.shape[:-1], pred.shape[:-1] + (1,)):
        labels = target.reshape(pred.shape[:-1])
        if not jnp.issubdtype(labels.dtype, jnp.integer):
            labels = jnp.round(labels)
        return pred, labels.astype(jnp.int32), True
    raise ValueError(
        f"pred has shape {pred.shape} (batch..., classes) but target has shape {target.shape}; give "
        f"one-hot/probability targets of shape {pred.shape} or integer labels of shape {pred.shape[:-1]}"
    )


def _log_prob(p: Array) -> Array:
    return jnp.log(jnp.clip(p, EPS, 1.0))


def _nll(logp: Array, target: Array, is_labels: bool) -> Array:
    """Mean negative log-likelihood of targets under log-probabilities ``logp`` (batch..., k)."""
    if is_labels:
        return -jnp.mean(jnp.take_along_axis(logp, target[..., None], axis=-1))
    return -jnp.mean(jnp.sum(target * logp, axis=-1))


def _kl(logp: Array, target: Array) -> Array:
    # xlogy makes 0 * log 0 = 0, so targets with empty classes are fine
    return jnp.mean(jnp.sum(xlogy(target, target) - target * logp, axis=-1))


# --------------------------------------------------------------------------- losses on predictions


def mse(pred, target) -> Array:
    """Mean squared error, ``mean((pred - target)^2)``: regression with Gaussian noise."""
    pred, target = _paired(pred, target)
    return jnp.mean(jnp.square(pred - target))


def mae(pred, target) -> Array:
    """Mean absolute error, ``mean(|pred - target|)``: regression robust to outliers (median fit)."""
    pred, target = _paired(pred, target)
    return jnp.mean(jnp.abs(pred - target))


def msle(pred, target) -> Array:
    """Mean squared logarithmic error, ``mean((log(1 + pred) - log(1 + target))^2)``.

    For positive targets spanning orders of magnitude: it penalises ratios, not differences.
    Negative predictions are clipped to 0 (as in Keras) and then get no gradient, so pair it with a
    positive output (``softplus``, ``exp``); targets must be ``>= 0``.
    """
    pred, target = _paired(pred, target)
    return jnp.mean(jnp.square(jnp.log1p(jnp.maximum(pred, 0.0)) - jnp.log1p(target)))


def huber(pred, target, delta: float = 1.0) -> Array:
    """Huber loss: ``0.5 r^2`` for ``|r| <= delta``, ``delta (|r| - 0.5 delta)`` beyond; mean over all.

    Quadratic near zero like MSE, linear for large residuals like MAE.
    """
    pred, target = _paired(pred, target)
    r = jnp.abs(pred - target)
    return jnp.mean(jnp.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta)))


def binary_crossentropy(pred, target) -> Array:
    """Binary cross-entropy ``-mean(y log p + (1 - y) log(1 - p))`` for probabilities ``p`` in (0, 1).

    One independent Bernoulli per output unit: binary (1 unit) or multi-label (k units) tasks.
    ``target`` holds 0/1 labels (or soft labels in [0, 1]) of the same shape as ``pred``.
    """
    pred, target = _paired(pred, target)
    p = jnp.clip(pred, EPS, 1.0 - EPS)
    return -jnp.mean(target * jnp.log(p) + (1.0 - target) * jnp.log1p(-p))


def categorical_crossentropy(pred, target) -> Array:
    """Categorical cross-entropy ``-mean_n sum_k t_nk log p_nk`` for rows ``p`` that sum to 1.

    ``pred`` is ``(n, k)`` (softmax output). ``target`` is either
    * one-hot rows or class probabilities of shape ``(n, k)`` (same shape as ``pred``), or
    * integer labels in ``[0, k)`` of shape ``(n,)`` (or ``(n, 1)``): detected by having one axis fewer.
    Predictions are not renormalised: rows that don't sum to 1 (sigmoid outputs) are not a likelihood.
    """
    pred, target, is_labels = _classes(pred, target)
    return _nll(_log_prob(pred), target, is_labels)


def sparse_categorical_crossentropy(pred, target) -> Array:
    """Categorical cross-entropy with integer labels ``target`` of shape ``(n,)`` for ``pred`` ``(n, k)``."""
    pred, target, is_labels = _classes(pred, target)
    if not is_labels:
        raise ValueError(
            f"sparse_categorical_crossentropy takes integer labels of shape {pred.shape[:-1]}, got target "
            f"of shape {pred.shape} (one-hot?); use categorical_crossentropy for one-hot targets"
        )
    return _nll(_log_prob(pred), target, True)


def kl_divergence(pred, target) -> Array:
    """``KL(target || pred) = mean_n sum_k t_nk (log t_nk - log p_nk)``, both ``(n, k)``, rows summing to 1.

    Fits predicted distributions to target distributions; equals categorical cross-entropy minus the
    (constant) target entropy, so it is 0 at a perfect fit.
    """
    pred, target = _as_float(pred, target)
    if pred.shape != target.shape:
        raise ValueError(f"kl_divergence needs target rows of shape {pred.shape}, not {target.shape}")
    return _kl(_log_prob(pred), target)


def poisson(pred, target) -> Array:
    """Poisson negative log-likelihood ``mean(rate - y log rate)`` (the constant ``log y!`` dropped).

    ``pred`` is a positive rate (``exp`` or ``softplus`` output), ``target`` non-negative counts.
    """
    pred, target = _paired(pred, target)
    return jnp.mean(pred - target * jnp.log(pred + EPS))


def gaussian_nll(pred, target) -> Array:
    """Gaussian negative log-likelihood with a predicted variance (heteroscedastic regression).

    ``pred`` is ``(n, 2 d)``: the first ``d`` columns are the mean, the last ``d`` the log-variance
    (a linear output, so the variance ``exp(log_var)`` is positive). ``target`` is ``(n, d)`` (or ``(n,)``
    when ``d = 1``). Returns ``mean(0.5 (log 2 pi + log_var + (y - mean)^2 / exp(log_var)))`` over all
    elements; Nix & Weigend (1994).
    """
    pred, target = _as_float(pred, target)
    if pred.ndim == 0 or pred.shape[-1] % 2:
        raise ValueError(f"gaussian_nll needs pred of shape (..., 2 d) = [mean, log_var], got {pred.shape}")
    d = pred.shape[-1] // 2
    if d == 1 and target.shape == pred.shape[:-1]:
        target = target[..., None]
    if target.shape != pred.shape[:-1] + (d,):
        raise ValueError(f"gaussian_nll: pred {pred.shape} holds {d} means; target has shape {target.shape}")
    mean, log_var = pred[..., :d], pred[..., d:]
    return 0.5 * jnp.mean(math.log(2 * math.pi) + log_var + jnp.square(target - mean) * jnp.exp(-log_var))


LOSSES: dict[str, LossFn] = {
    "mse": mse,
    "mae": mae,
    "msle": msle,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence,
    "poisson": poisson,
    "gaussian_nll": gaussian_nll,
}


def get_loss(name: str) -> LossFn:
    """The loss called ``name``; ``ValueError`` listing the valid names otherwise."""
    return _choose("loss", name, LOSSES)


# --------------------------------------------------------------------------- output activations


def linear(x) -> Array:
    """Identity output (regression)."""
    return jnp.asarray(x)


def softmax(x) -> Array:
    """Softmax over the last axis (the class axis): rows are positive and sum to 1."""
    return jax.nn.softmax(x, axis=-1)


OUTPUT_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "linear": linear,
    "sigmoid": jax.nn.sigmoid,
    "softmax": softmax,
    "relu": jax.nn.relu,
    "softplus": jax.nn.softplus,
    "tanh": jnp.tanh,
    "exp": jnp.exp,
}


def get_output_activation(name: str) -> Callable[[Array], Array]:
    """The output activation called ``name``; ``ValueError`` listing the valid names otherwise."""
    return _choose("output activation", name, OUTPUT_ACTIVATIONS)


# --------------------------------------------------------------------------- fused: raw output -> loss


def _sigmoid_bce(z, target) -> Array:
    # -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z, exact for any z; gradient sigmoid(z) - y
    z, target = _paired(z, target)
    return jnp.mean(jax.nn.softplus(z) - target * z)


def _softmax_cce(z, target) -> Array:
    z, target, is_labels = _classes(z, target)
    return _nll(jax.nn.log_softmax(z, axis=-1), target, is_labels)


def _softmax_sparse_cce(z, target) -> Array:
    z, target, is_labels = _classes(z, target)
    if not is_labels:
        return sparse_categorical_crossentropy(z, target)  # raises the shape error
    return _nll(jax.nn.log_softmax(z, axis=-1), target, True)


def _softmax_kl(z, target) -> Array:
    z, target = _as_float(z, target)
    if z.shape != target.shape:
        return kl_divergence(z, target)  # raises the shape error
    return _kl(jax.nn.log_softmax(z, axis=-1), target)


def _exp_poisson(z, target) -> Array:
    # log rate = z exactly: no log of an underflowed exp
    z, target = _paired(z, target)
    return jnp.mean(jnp.exp(z) - target * z)


FUSED: dict[tuple[str, str], LossFn] = {
    ("sigmoid", "binary_crossentropy"): _sigmoid_bce,
    ("softmax", "categorical_crossentropy"): _softmax_cce,
    ("softmax", "sparse_categorical_crossentropy"): _softmax_sparse_cce,
    ("softmax", "kl_divergence"): _softmax_kl,
    ("exp", "poisson"): _exp_poisson,
}


def output_loss(activation: str, loss: str) -> LossFn:
    """``fn(raw, target) -> scalar``: the loss of ``activation(raw)``, from the raw last-layer output.

    Pairs listed in ``FUSED`` are computed in closed form from the logits (``softplus(z) - y z`` for
    sigmoid + binary cross-entropy, ``log_softmax`` for softmax + categorical cross-entropy / KL,
    ``exp(z) - y z`` for exp + Poisson): finite with exact gradients even at ``|z| = 100``, where the
    two-step version saturates to a clipped constant with zero gradient. Every other pair applies the
    activation, then the loss. At prediction time apply ``get_output_activation(activation)`` to ``raw``.
    """
    act = get_output_activation(activation)
    base = get_loss(loss)
    closed_form = FUSED.get((activation, loss))

    def fused(raw, target) -> Array:
        if closed_form is not None:
            return closed_form(raw, target)
        return base(act(raw), target)

    fused.__name__ = f"{activation}_{loss}"
    fused.__qualname__ = fused.__name__
    return fused
