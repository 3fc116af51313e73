"""Building blocks written from scratch, each tested against its PyTorch counterpart.

One concept per module: ``mlp`` (chapter 1), ``conv`` and ``norm`` (chapter 2),
``recurrent`` and ``char_lstm`` (chapter 3), ``attention`` and ``transformer``
(chapter 4).
"""
from . import conv, mlp, norm
from .conv import *  # noqa: F401,F403
from .mlp import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403

__all__ = [name for module in (mlp, conv, norm)
           for name in module.__all__]
