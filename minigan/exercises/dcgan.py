"""Chapter 7: DCGAN's initialisation, checked on the book's own generator and discriminator.

Reference: :func:`minigan.gan.dcgan.dcgan_init_`. The parameters are judged
by their statistics (mean and standard deviation per kind of layer), so any
way of drawing N(0, 0.02) passes.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from .core import call, checker, fail, new_generator

__all__ = ["check_dcgan_init"]


def _stats(tensors: list[Tensor]) -> tuple[float, float]:
    flat = torch.cat([t.detach().flatten().double() for t in tensors])
    return flat.mean().item(), flat.std().item()


def _normal_ok(tensors: list[Tensor], mean: float, std: float = 0.02) -> bool:
    m, s = _stats(tensors)
    return abs(m - mean) < 0.005 and 0.75 * std < s < 1.25 * std


@checker("dcgan_init")
def check_dcgan_init(fn: Callable[[nn.Module], object]) -> str:
    """Check ``fn(module)``, DCGAN's initialisation in place: weights N(0, 0.02), BatchNorm N(1, 0.02) (chapter 7).

    ``module`` holds the book's DCGAN generator and discriminator (``nn.ModuleDict`` with "G" and "D"), so
    ``fn`` must reach nested layers: Conv2d, ConvTranspose2d (weight ~ N(0, 0.02), bias 0 where there is
    one) and BatchNorm2d (weight ~ N(1, 0.02), bias 0), as :func:`minigan.gan.dcgan.dcgan_init_`.
    Every parameter starts from other values, so a layer left alone shows.
    """
    from ..gan.dcgan import Discriminator, Generator  # here: minigan.gan.dcgan imports the data sets
    g = new_generator()
    module = nn.ModuleDict({"G": Generator(z_dim=16, ngf=64), "D": Discriminator(ndf=64)})
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(0.3, 0.7, generator=g)  # not what any init gives, so "left alone" is visible
    start = {id(p): p.detach().clone() for p in module.parameters()}
    call(fn, module, names=("module",))
    params = list(module.parameters())
    if all(p.shape == start[id(p)].shape and torch.equal(p, start[id(p)]) for p in params if id(p) in start):
        fail("unchanged", "no parameter changed: change the module's parameters in place, on every layer however "
                          "deeply nested: loop over module.modules() or use module.apply(init_fn).")
    kinds = {nn.Conv2d: [], nn.ConvTranspose2d: [], nn.BatchNorm2d: []}
    for m in module.modules():
        if type(m) in kinds:
            kinds[type(m)].append(m)
    untouched = lambda ps: all(torch.equal(p, start.get(id(p), p + 1)) for p in ps)  # noqa: E731
    for cls in (nn.Conv2d, nn.ConvTranspose2d):
        name = cls.__name__
        weights = [m.weight for m in kinds[cls]]
        if untouched(weights):
            extra = (" nn.ConvTranspose2d is not a subclass of nn.Conv2d, so isinstance(m, nn.Conv2d) misses it; "
                     "test both classes." if cls is nn.ConvTranspose2d else "")
            fail("forgot_convtranspose" if cls is nn.ConvTranspose2d else "forgot_conv",
                 f"the {name} weights were left alone.{extra} DCGAN draws every convolution's weights from "
                 "N(0, 0.02).")
        if not _normal_ok(weights, 0.0):
            m, s = _stats(weights)
            how = ("have standard deviation about 1 (PyTorch's randn without a scale?)" if 0.7 < s < 1.3 else
                   "are not centred at 0" if abs(m) >= 0.005 else "do not have standard deviation 0.02")
            fail("wrong_std" if abs(m) < 0.005 else "wrong_mean",
                 f"the {name} weights {how}; DCGAN draws them from N(0, 0.02): nn.init.normal_(m.weight, 0.0, 0.02) "
                 "(0.02 is the standard deviation, not the variance).")
        biases = [m.bias for m in kinds[cls] if m.bias is not None]
        if any(bool(b.abs().max() > 0) for b in biases):
            fail("conv_bias", f"the {name} biases are not 0: set every convolution's bias to 0 where it has one "
                              "(m.bias is not None).")
    bn = kinds[nn.BatchNorm2d]
    gammas, betas = [m.weight for m in bn], [m.bias for m in bn]
    m, s = _stats(gammas)
    if untouched(gammas):
        fail("bn_weight", "the BatchNorm2d weights (the scale gamma) were left alone; DCGAN draws them from "
                          "N(1, 0.02).")
    if not _normal_ok(gammas, 1.0):
        how = ("are centred at 0, which switches every channel off" if abs(m) < 0.5 else
               "are all exactly 1 (PyTorch's default)" if s == 0 else "do not have standard deviation 0.02")
        fail("bn_weight", f"the BatchNorm2d weights (the scale gamma) {how}; DCGAN draws them from N(1, 0.02): "
                          "nn.init.normal_(m.weight, 1.0, 0.02).")
    if any(bool(b.abs().max() > 0) for b in betas):
        fail("bn_bias", "the BatchNorm2d biases (the shift beta) are not 0: nn.init.zeros_(m.bias).")
    return ("your initialisation is DCGAN's on the book's generator and discriminator: Conv2d and ConvTranspose2d "
            "weights ~ N(0, 0.02), their biases 0, BatchNorm2d weights ~ N(1, 0.02) and biases 0.")
