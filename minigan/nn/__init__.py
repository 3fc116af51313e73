"""Building blocks written from scratch, each tested against its PyTorch counterpart.

One concept per module: ``mlp`` (chapter 1), ``conv``, ``norm`` and ``receptive`` (chapter 2),
``recurrent`` and ``char_lstm`` (chapter 3), ``attention`` and ``transformer``
(chapter 4).
"""
from . import attention, char_lstm, conv, mlp, norm, receptive, recurrent, transformer
from .attention import *  # noqa: F401,F403
from .char_lstm import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .mlp import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .receptive import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403

__all__ = [name for module in (mlp, conv, norm, receptive, recurrent, char_lstm, attention, transformer)
           for name in module.__all__]
