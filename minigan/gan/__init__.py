"""GANs: losses (one small function per paper), step functions, and the models of Part II."""
from . import losses, steps
from .losses import *  # noqa: F401,F403
from .steps import *  # noqa: F401,F403

__all__ = [*losses.__all__, *steps.__all__]
