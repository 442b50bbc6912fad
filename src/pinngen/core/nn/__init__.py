"""Shared network layers for every family: dense layers and the MLP, input embeddings, convolution.

- :mod:`.mlp`: activations, initialisers, :class:`Dense`, :class:`MLP`, :func:`trainable_filter`,
  :class:`Frozen`, :func:`count_params`, :func:`format_table`.
- :mod:`.embeddings`: :class:`FourierFeatures`, :class:`PeriodicEmbedding`.
- :mod:`.conv`: :class:`Conv2d` (patches + one matmul, the fast path on CPU), :class:`ConvEncoder`,
  :class:`ConvDecoder`.
- :mod:`.conv_lax`: :func:`conv2d_nhwc` (``lax.conv`` channels-last with a hand-written backward pass; the
  faster path inside a training loop on CPU, measured in ``bench/conv_paths.py``).
- :mod:`.norm`: :class:`GroupNorm`, :func:`group_norm`; :mod:`.attention`: :class:`SelfAttention`,
  :func:`attention`.
"""

from .attention import SelfAttention, attention
from .conv import Conv2d, ConvDecoder, ConvEncoder, as_chw, upsample2
from .conv_lax import conv2d_nhwc
from .embeddings import FourierFeatures, PeriodicEmbedding
from .mlp import (
    ACTIVATIONS,
    DISCONTINUOUS_DERIVATIVE,
    INITIALISERS,
    MLP,
    Dense,
    Frozen,
    count_params,
    format_table,
    get_activation,
    trainable_filter,
)
from .norm import GroupNorm, group_norm

__all__ = [
    "ACTIVATIONS",
    "DISCONTINUOUS_DERIVATIVE",
    "INITIALISERS",
    "MLP",
    "Conv2d",
    "ConvDecoder",
    "ConvEncoder",
    "Dense",
    "FourierFeatures",
    "Frozen",
    "GroupNorm",
    "PeriodicEmbedding",
    "SelfAttention",
    "as_chw",
    "attention",
    "conv2d_nhwc",
    "count_params",
    "format_table",
    "get_activation",
    "group_norm",
    "trainable_filter",
    "upsample2",
]
