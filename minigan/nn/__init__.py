"""Building blocks written from scratch, each tested against its PyTorch counterpart."""
from .mlp import ACTIVATIONS, MLP, MLPConfig, ScratchMLP, softmax_cross_entropy

__all__ = ["ACTIVATIONS", "MLP", "MLPConfig", "ScratchMLP", "softmax_cross_entropy"]
