"""Diagrams the book draws with the package, so they need no network and cannot drift from the code.

Each function returns a matplotlib ``Figure``. What a diagram shows is read
from the code it depicts wherever it can be: windows from ``extract_patches``,
receptive fields from ``receptive_fields``, the generator's stages from a
forward pass, a Transformer block's sizes from the block, the derivatives of
the activations from autograd.

- ``functions``: activation functions and their derivatives (chapter 1)
- ``conv``: padding and stride, im2col, the receptive field of a conv stack (chapters 2 and 8)
- ``sequence``: the unrolled RNN, the LSTM cell, a Transformer block (chapters 3 and 4)
- ``networks``: CycleGAN's ResNet generator, stage by stage (chapter 8)
"""
from . import conv, functions, networks, sequence
from .conv import *  # noqa: F401,F403
from .functions import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .sequence import *  # noqa: F401,F403

__all__ = [name for module in (functions, conv, sequence, networks) for name in module.__all__]
