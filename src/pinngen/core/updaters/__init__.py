"""Update steps: the one loop calls ``step`` of an updater; each updater is one way to change parameters.

- :class:`GradientUpdater`: any Optax transform (Adam, SGD, Lion, ...), on minibatches or the full batch;
- :class:`LBFGSUpdater`: a quasi-Newton transform (L-BFGS, or dense BFGS / SSBFGS / SSBroyden) with a zoom
  line search on the full batch, with its stopping tolerances;
- :class:`GroupUpdater`: named parameter groups (a GAN's generator and discriminator), each with its own
  transform, loss terms and number of updates per step, alternating inside one jitted step;
- :class:`TransformedLoss`: any of the first two on sqrt(L) or log(L) of the total (a phase's
  ``loss_transform``), recording L.

:func:`make_updater` builds the right one for a :class:`~pinngen.core.optim.Phase`.
"""

from pinngen.core.updaters.base import STOP_REASONS, Updater, weighted_total
from pinngen.core.updaters.build import make_updater
from pinngen.core.updaters.gradient import GradientUpdater
from pinngen.core.updaters.groups import GroupUpdater, group_masks
from pinngen.core.updaters.lbfgs import LBFGS_TERMS_EVERY, LBFGSUpdater
from pinngen.core.updaters.transform import LOSS_TRANSFORMS, TransformedLoss

__all__ = ["LBFGS_TERMS_EVERY", "LOSS_TRANSFORMS", "STOP_REASONS", "GradientUpdater", "GroupUpdater",
           "LBFGSUpdater", "TransformedLoss", "Updater", "group_masks", "make_updater", "weighted_total"]
