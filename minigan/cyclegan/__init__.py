"""CycleGAN [zhu2017cyclegan]: networks identical to the authors' reference, the history pool, the recipe's config.

Paper names and code names: the generators G: X -> Y and F: Y -> X, the
discriminators D_Y (real y vs G(x)) and D_X (real x vs F(y)). The reference
code calls them netG_A, netG_B, netD_A, netD_B with A = X and B = Y.
"""
from . import checkpoint, compress, config, distributed, evaluate, networks, pool, precision, trainer
from .checkpoint import *  # noqa: F401,F403
from .config import *  # noqa: F401,F403
from .evaluate import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .precision import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403

__all__ = [*checkpoint.__all__, *config.__all__, *evaluate.__all__, *networks.__all__, *pool.__all__, *precision.__all__,
           *trainer.__all__]
