"""Shared network layers for every family: dense layers and the MLP, input embeddings, convolution.

- :mod:`.mlp`: activations, initialisers, :class:`Dense`, :class:`MLP`, :func:`trainable_filter`,
  :class:`Frozen`, :func:`count_params`, :func:`format_table`.
- :mod:`.embeddings`: :class:`FourierFeatures`, :class:`PeriodicEmbedding`.
- :mod:`.conv`: :class:`Conv2d` (patches + one matmul, the fast path on CPU), :class:`ConvEncoder`,
  :class:`ConvDecoder`.
"""

from .conv import Conv2d, ConvDecoder, ConvEncoder, as_chw, upsample2
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
    "PeriodicEmbedding",
    "as_chw",
    "count_params",
    "format_table",
    "get_activation",
    "trainable_filter",
    "upsample2",
]
