"""Channels-last 2-D convolution by ``lax.conv`` with a hand-written backward pass that stays fast on CPU.

``conv2d_nhwc(x, weight, bias, stride)``: ``x`` ``(n, H, W, C_in)``, ``weight`` ``(k, k, C_in, C_out)`` (HWIO,
the layout of :class:`pinngen.core.nn.Conv2d`), zero padding ``k // 2``, stride 1 or 2 (output
``ceil(H / stride)`` for odd ``k``) -> ``(n, H', W', C_out)``. The same function as ``Conv2d`` (to float32
rounding); a different speed.

Why a custom VJP: XLA on CPU runs a convolution fast (YNNPACK or Eigen kernels) only in the canonical form NHWC
input / HWIO kernel / NHWC output. The forward pass is canonical, but the gradients JAX derives are
convolutions with permuted dimension numbers, which XLA lowers to plain loops: inside a loop (our training
step runs in one) the input gradient took ~40x and the weight gradient ~300x the forward's time (28x28x32,
batch 64, one core; jax-ml/jax#12868). The backward below uses only fast operations:

* input gradient: the output gradient zero-dilated by the stride, padded, and convolved (canonical form again)
  with the kernel flipped in space and transposed in channels (the transposed convolution);
* weight gradient: the padded input of a chunk of samples, flattened to rows ``X`` ``(R, C_in)`` (a free
  reshape), and the output gradient placed on the same padded grid (zero elsewhere) and transposed once,
  ``G^T`` ``(C_out, R')``; tap ``(kh, kw)`` is then the product ``G^T @ X[o : o + R']`` with the flat offset
  ``o = kh (W + 2p) + kw`` (a contiguous window of rows: no strided copy, no transposed operand, no im2col
  patch matrix). A loop runs over chunks small enough to stay in the core's cache.

Measured inside the U-Net's training step (``bench/conv_paths.py``, notes in BENCHMARKS.md): the weight gradient
still costs 2-3x the forward convolution and runs on one core; input gradient and forward cost about the same.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

__all__ = ["conv2d_nhwc"]

_DN = ("NHWC", "HWIO", "NHWC")
CHUNK_BYTES = 512 * 1024  # per chunk of samples in the weight gradient: about a quarter of this CPU's L2


def _pad(x, p: int):
    return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))


def _forward_padded(xp, weight, bias, stride: int):
    y = jax.lax.conv_general_dilated(xp, weight, (stride, stride), "VALID", dimension_numbers=_DN)
    return y + bias


@partial(jax.custom_vjp, nondiff_argnums=(3,))
def conv2d_nhwc(x, weight, bias, stride: int = 1):
    """Convolve channels-last ``x`` with HWIO ``weight`` plus ``bias``; see the module docstring."""
    return _forward_padded(_pad(x, weight.shape[0] // 2), weight, bias, stride)


def _fwd(x, weight, bias, stride):
    # The zero padding is explicit and the padded input is the residual: the weight gradient reads exactly
    # that layout, so the backward pass never pads x again.
    xp = _pad(x, weight.shape[0] // 2)
    return _forward_padded(xp, weight, bias, stride), (xp, weight)


def _input_grad(g, weight, x_shape, s: int):
    """``dL/dx`` (n, H, W, C_in): zero-dilate ``g`` by the stride, pad, convolve with the flipped kernel."""
    k = weight.shape[0]
    p = k // 2
    (h, w), (ho, wo) = x_shape[1:3], g.shape[1:3]
    lo = k - 1 - p
    pads = ((lo, h + p - s * (ho - 1) - 1), (lo, w + p - s * (wo - 1) - 1))
    flipped = jnp.transpose(weight[::-1, ::-1], (0, 1, 3, 2))  # (k, k, C_out, C_in)
    if s == 1:  # padding inside the convolution: still the canonical (fast) form, and no padded copy of g
        return jax.lax.conv_general_dilated(g, flipped, (1, 1), pads, dimension_numbers=_DN)
    gd = jax.lax.pad(g, jnp.zeros((), g.dtype), ((0, 0, 0), (*pads[0], s - 1), (*pads[1], s - 1), (0, 0, 0)))
    return jax.lax.conv_general_dilated(gd, flipped, (1, 1), "VALID", dimension_numbers=_DN)


def _chunk(n: int, bytes_per_sample: int, budget: int | None = None) -> int:
    """Largest divisor of ``n`` whose samples fit in ``budget`` bytes (at least 1)."""
    budget = CHUNK_BYTES if budget is None else budget
    best = 1
    for d in range(1, n + 1):
        if n % d == 0 and d * bytes_per_sample <= budget:
            best = d
    return best


def _weight_grad(xp, g, k: int, s: int):
    """``dL/dW`` (k, k, C_in, C_out) from the zero-padded input ``xp``: per chunk of samples, one matrix
    product per tap (module docstring)."""
    n, hp, wp, c_in = xp.shape
    _, ho, wo, c_out = g.shape
    offsets = [kh * wp + kw for kh in range(k) for kw in range(k)]
    # A loop over chunks of samples small enough for the core's cache: the nine windows and products of a
    # chunk then read cached data (1.7x faster than whole-batch products at 28x28x32, batch 64).
    nc = _chunk(n, hp * wp * max(c_in, c_out) * xp.dtype.itemsize)
    rows = nc * hp * wp
    xf = xp.reshape(n // nc, rows, c_in)  # flat per chunk
    # Output pixel (i, j) reads padded input (s i + kh, s j + kw): place g at (s i, s j) of the padded grid;
    # elsewhere it is zero. Its last nonzero row is at most rows - 1 - max offset, so windows of
    # rows - max offset cover every product, stay in range, and never mix two samples.
    gg = jax.lax.pad(g, jnp.zeros((), g.dtype), ((0, 0, 0), (0, hp - s * (ho - 1) - 1, s - 1),
                                                  (0, wp - s * (wo - 1) - 1, s - 1), (0, 0, 0)))
    span = rows - offsets[-1]
    gg = gg.reshape(n // nc, rows, c_out)[:, :span]

    def chunk(acc, xs):
        xc, gc = xs
        # Transposed once per chunk and kept (the barrier stops XLA folding the transpose into each product,
        # which makes them transposed-operand products, several times slower on CPU).
        gt = jax.lax.optimization_barrier(gc.T)  # (C_out, span)
        return acc + jnp.stack([gt @ jax.lax.slice_in_dim(xc, o, o + span) for o in offsets]), None

    zero = jnp.zeros((k * k, c_out, c_in), xp.dtype)
    if n == nc:  # one chunk: no loop (fewer while loops to compile)
        dw = chunk(zero, (xf[0], gg[0]))[0]
    else:
        dw = jax.lax.scan(chunk, zero, (xf, gg))[0]  # (k^2, C_out, C_in)
    return jnp.transpose(dw.reshape(k, k, c_out, c_in), (0, 1, 3, 2))


def _bwd(stride, res, g):
    xp, weight = res
    k = weight.shape[0]
    p = k // 2
    x_shape = (xp.shape[0], xp.shape[1] - 2 * p, xp.shape[2] - 2 * p, xp.shape[3])
    return (_input_grad(g, weight, x_shape, stride), _weight_grad(xp, g, k, stride),
            jnp.sum(g, axis=(0, 1, 2)))


conv2d_nhwc.defvjp(_fwd, _bwd)

