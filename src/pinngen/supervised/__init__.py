"""Dense networks for tabular regression and classification (the lecture's Keras example)."""

from pinngen.supervised.model import Supervised

__all__ = ["Supervised"]
