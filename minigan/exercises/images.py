"""Chapter 9: from image files to the model's range and back.

Image files hold 8-bit pixels in [0, 255]; the CycleGAN networks see floats in
[-1, 1]. Going in, :func:`minigan.data.folders.cyclegan_transform` divides by
255 (``ToTensor``) and then normalises with mean 0.5 and std 0.5: x = p / 127.5 - 1.
Coming out, :func:`minigan.data.folders.save_images` clamps to [-1, 1], maps
back with (x + 1) * 127.5 and rounds to uint8.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .core import as_tensor, call, check_shape, checker, close, fail, first_match, new_generator, shape_str

__all__ = ["check_to_model_range", "check_to_pixels"]


def _wrap(t: Tensor) -> Tensor:
    """What uint8 arithmetic does to an integer result: modulo 256."""
    return torch.remainder(t, 256).double()


@checker("to_model_range")
def check_to_model_range(fn: Callable[[Tensor], Tensor]) -> str:
    """Check ``fn(pixels) -> images``: uint8 pixels in [0, 255] to floats in [-1, 1], x = p / 127.5 - 1 (chapter 9).

    ``pixels`` is a uint8 tensor of any shape, (C, H, W) or (B, C, H, W); the result is a float tensor of the
    same shape, as ``cyclegan_transform``'s ``ToTensor`` + ``Normalize((0.5,) * 3, (0.5,) * 3)`` compute it.
    Checked on every value 0 to 255, a random image and a batch.
    """
    g = new_generator()
    image = torch.randint(0, 256, (3, 4, 5), generator=g, dtype=torch.uint8)
    image[0, 0, 0], image[-1, -1, -1] = 0, 255
    cases = [torch.arange(256, dtype=torch.uint8).reshape(4, 8, 8), image,
             torch.randint(0, 256, (2, 3, 2, 2), generator=g, dtype=torch.uint8)]
    for pixels in cases:
        p = pixels.long()
        expected = p / 127.5 - 1
        got = as_tensor(call(fn, pixels.clone(), names=("pixels",)), "your result")
        check_shape(got, pixels, "your result", "Keep the layout of the input; only the values change.")
        if not got.is_floating_point():
            fail("not_float", f"your result has dtype {got.dtype}, an integer type, which cannot hold values between "
                              "-1 and 1. Convert to float first: pixels.float() / 127.5 - 1.")
        if close(got, expected, atol=1e-5):
            continue
        first_match(got, [
            ("unit_range", p / 255,
             "your values are in [0, 1] (what ToTensor gives); the networks work in [-1, 1]: p / 127.5 - 1, "
             "that is ToTensor followed by Normalize with mean 0.5 and std 0.5."),
            ("shift", p / 127.5,
             "your values are in [0, 2]: subtract 1 after dividing by 127.5."),
            ("overflow", _wrap(p * 2) / 255 - 1,
             "uint8 arithmetic wrapped around: pixels * 2 goes above 255 and starts again at 0. Convert to float "
             "before any arithmetic: pixels.float() * 2 / 255 - 1."),
            ("overflow", _wrap(p - 128) / 128, "uint8 arithmetic wrapped around: pixels - 128 goes below 0 and "
                                               "comes back near 255. Convert to float before any arithmetic."),
            ("overflow", _wrap(p - 128) / 127.5, "uint8 arithmetic wrapped around: pixels - 128 goes below 0 and "
                                                 "comes back near 255. Convert to float before any arithmetic."),
            ("scale", (p - 128) / 128, "0 must become exactly -1 and 255 exactly 1: divide by 127.5 (= 255 / 2) "
                                       "and subtract 1, not 128."),
            ("scale", p / 128 - 1, "255 must become exactly 1: divide by 127.5 (= 255 / 2), not 128."),
            ("scale", p / 127 - 1, "255 must become exactly 1: divide by 127.5 (= 255 / 2), not 127."),
        ], atol=1e-5)
        fail("mismatch", f"for pixels {shape_str(pixels)} your values are off: 0 must become -1, 255 must become 1, "
                         "and everything in between linearly: p / 127.5 - 1.")
    return ("your conversion maps every pixel value 0 to 255 onto p / 127.5 - 1, keeps the shape and returns "
            "floats (checked on all 256 values, an image and a batch).")


def _images(g: torch.Generator, shape: tuple[int, ...], outside: bool) -> Tensor:
    """Float32 images in [-1, 1] whose (x + 1) * 127.5 is never near a .5 tie, with some values outside if asked."""
    k = torch.randint(0, 255, shape, generator=g).double()
    frac = torch.rand(shape, generator=g, dtype=torch.float64) * 0.3 + torch.where(
        torch.rand(shape, generator=g) < 0.5, 0.1, 0.6).double()  # in [0.1, 0.4] or [0.6, 0.9]
    x = ((k + frac) / 127.5 - 1).float()
    flat = x.view(-1)
    flat[:3] = torch.tensor([-1.0, 0.0, 1.0])  # the ends and the middle (127.5 rounds to 128 either way)
    if outside:
        flat[3:7] = torch.tensor([1.2, -1.3, 1.02, -2.0])  # a generator (or a resize) can overshoot
    return x


@checker("to_pixels")
def check_to_pixels(fn: Callable[[Tensor], Tensor]) -> str:
    """Check ``fn(images) -> pixels``: floats in [-1, 1] to uint8, round((clamp(x, -1, 1) + 1) * 127.5) (chapter 9).

    ``images`` is a float32 tensor of any shape; the result is a uint8 tensor of the same shape, as
    :func:`minigan.data.folders.save_images` computes it (clamped first, so values a little outside
    [-1, 1] become 0 or 255; rounded, not truncated). Checked on an image and on a batch with values outside.
    """
    g = new_generator()
    for shape, outside in (((3, 4, 5), False), ((2, 3, 3, 3), True)):
        x = _images(g, shape, outside)
        xd = x.double()
        expected = ((xd.clamp(-1, 1) + 1) * 127.5).round()  # as float64, to compare with any dtype
        got = as_tensor(call(fn, x.clone(), names=("images",)), "your result")
        check_shape(got, x, "your result", "Keep the layout of the input; only the values change.")
        inside = (xd >= -1) & (xd <= 1)
        if got.dtype != torch.uint8:
            if close(got, expected):
                fail("not_uint8", f"your values are right but have dtype {got.dtype}; image files hold 8-bit "
                                  "pixels: finish with .to(torch.uint8).")
            if close(got[inside], ((xd + 1) * 127.5)[inside]):
                fail("not_uint8", "your values are (x + 1) * 127.5 as floats; round them and convert to uint8: "
                                  "((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).")
            fail("not_uint8", f"your result has dtype {got.dtype}; return uint8 pixels (.to(torch.uint8)).")
        if close(got, expected):
            continue
        got_d = got.double()
        scaled = (xd + 1) * 127.5
        if torch.equal(got_d[inside], scaled[inside].floor()):
            fail("truncated", "your pixels are sometimes 1 too small: .to(torch.uint8) cuts off the fraction (127.9 "
                              "becomes 127). Round first: .round().to(torch.uint8).")
        positive = inside & (xd >= 0)
        if any(torch.equal(got_d[positive], f(xd[positive] * 255)) for f in (torch.round, torch.floor)):
            fail("unit_range", "you treat the images as [0, 1] (x * 255); they are in [-1, 1]: (x + 1) * 127.5.")
        below_top = inside & (xd < 0.99)
        if any(torch.equal(got_d[below_top], f((xd[below_top] + 1) * 128)) for f in (torch.round, torch.floor)):
            fail("scale", "1 must become 255: multiply (x + 1) by 127.5, not 128 (which gives 256, and that wraps "
                          "around to 0 in uint8).")
        if torch.equal(got_d[inside], expected[inside]):
            fail("no_clamp", "values outside [-1, 1] come out wrong (a generator, or a resize, can overshoot a "
                             "little): when cast to uint8 they wrap around or saturate depending on the machine. "
                             "Clamp first: x.clamp(-1, 1).")
        fail("mismatch", f"for images {shape_str(x)} your pixels are off: -1 must become 0, 1 must become 255, 0 "
                         "becomes 128, rounded: ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).")
    return ("your conversion gives round((clamp(x, -1, 1) + 1) * 127.5) as uint8 on an image and on a batch with "
            "values outside [-1, 1].")
