"""Making a trained CycleGAN generator smaller: pruning, 8-bit weights, distillation, and how to measure each.

Shapes: B batch, C = 3 channels, S x S images in [-1, 1]. ``net`` is a
generator such as :class:`~minigan.cyclegan.ResnetGenerator` (``model.G``).

Three ways to compress a network, and what each one actually buys:

- **Pruning** (:func:`prune_magnitude`): set the smallest weights to zero.
  The network has as many weights as before, so a dense convolution, which
  multiplies every weight whether it is zero or not, is exactly as slow; the
  zeros save *time* only with sparse kernels (or structured pruning that
  removes whole channels), and save *space* only if the weights are stored
  sparsely or compressed, where a long run of zeros costs almost nothing.
- **Quantization** (:func:`quantize_int8`): store every weight in 8 bits
  instead of 32, a quarter of the size. Here the weights are rounded to int8
  and turned back into float32, so the model computes in float32 as before:
  this measures what 8-bit *storage* does to quality, not int8 *arithmetic*.
- **Distillation** (:func:`distill`): train a thinner network, the student,
  to reproduce the trained one, the teacher, image for image. Fewer channels
  and blocks are fewer multiply-adds, so this is the one of the three that
  makes a dense network faster.

How to compare them, in one table: :func:`stored_size` (bytes on disk, after
zlib, so zeros and 8-bit weights both show), :func:`count_nonzero`,
:func:`time_inference` (seconds per image), and the ground-truth quality of
:func:`minigan.cyclegan.evaluate.translation_scores`.

Each function returns a new network and leaves its input alone (except
:func:`distill`, which trains the student it is given).
"""
from __future__ import annotations

import copy
import statistics
import zlib

import torch
import torch.nn.functional as F_
from torch import Tensor, nn
from torch.nn.utils import prune

from ..measure import time_call
from ..train import fit

__all__ = ["prune_magnitude", "quantize_int8", "stored_size", "count_nonzero", "distill", "time_inference"]

_CONVS = (nn.Conv2d, nn.ConvTranspose2d)


def _convs(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The (name, module) of every conv and transposed conv in ``net``, in order."""
    return [(name, m) for name, m in net.named_modules() if isinstance(m, _CONVS)]


def _out_dim(conv: nn.Module) -> int:
    """The output-channel axis of a conv's weight: Conv2d is (out, in, kH, kW), ConvTranspose2d (in, out, kH, kW)."""
    return 1 if isinstance(conv, nn.ConvTranspose2d) else 0


def prune_magnitude(net: nn.Module, amount: float) -> nn.Module:
    """A copy of ``net`` with the ``amount`` fraction (0..1) of its smallest conv weights set to zero.

    Global magnitude pruning: the weights of all convs and transposed convs
    are ranked together by |w|, and the smallest ``round(amount * total)``
    become 0, so a layer with many small weights loses more of them than one
    with few. Biases are left alone. Done with PyTorch's ``prune`` module
    (``global_unstructured`` with ``L1Unstructured``), then made permanent
    with ``prune.remove``: the copy holds plain weights with zeros in them,
    not a weight and a mask.

    The copy is as big and, with dense convolutions, as slow as ``net``: the
    zeros are still multiplied. They save time only with sparse kernels,
    which ``nn.Conv2d`` does not use, and space only when the weights are
    stored sparsely or compressed (see :func:`stored_size`).
    """
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount must be between 0 and 1, got {amount}")
    net = copy.deepcopy(net)
    convs = [m for _, m in _convs(net)]
    if not convs:
        raise ValueError("the network has no Conv2d or ConvTranspose2d layer to prune")
    layouts = [_layout(m.weight) for m in convs]
    for m in convs:  # prune flattens each weight with .view(-1), which needs the default (NCHW) layout
        m.weight.data = m.weight.data.contiguous()
    prune.global_unstructured([(m, "weight") for m in convs], pruning_method=prune.L1Unstructured, amount=amount)
    for m, layout in zip(convs, layouts):
        prune.remove(m, "weight")  # weight_orig * mask becomes the weight itself
        m.weight.data = m.weight.data.contiguous(memory_format=layout)  # keep NHWC (channels_last) if it was
    return net


def _layout(w: Tensor) -> torch.memory_format:
    return torch.channels_last if w.dim() == 4 and not w.is_contiguous() and w.is_contiguous(
        memory_format=torch.channels_last) else torch.contiguous_format


def _int8_per_channel(w: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """Symmetric int8 of ``w`` per slice along ``dim``: (q int8 like ``w``, scale float32 broadcastable to ``w``).

    scale = max|w| / 127 over each slice, q = round(w / scale) in [-127, 127],
    so w ≈ q * scale within scale / 2. An all-zero slice gets scale 1 (q = 0).
    """
    others = [d for d in range(w.dim()) if d != dim]
    amax = w.detach().abs().amax(dim=others, keepdim=True).float()  # (out, 1, 1, 1) or (1, out, 1, 1)
    scale = torch.where(amax > 0, amax / 127, torch.ones_like(amax))
    q = torch.round(w.detach().float() / scale).clamp_(-127, 127).to(torch.int8)
    return q, scale


def quantize_int8(net: nn.Module) -> nn.Module:
    """A copy of ``net`` whose conv weights are rounded to int8 per output channel and stored back as float32.

    For each output channel of each conv and transposed conv: scale =
    max|w| / 127 over that channel, w <- round(w / scale) * scale. Every
    weight moves by at most scale / 2, and a channel's own scale keeps a
    channel of small weights from rounding to zero next to a channel of large
    ones. (ConvTranspose2d's weight is (in, out, kH, kW), so its output
    channels are along dim 1, not 0.) Biases, a tiny part of the model, stay
    float32. The copy runs in float32 like ``net``: it shows the effect of
    storing the weights in 8 bits on quality, and :func:`stored_size` with
    ``bits=8`` the effect on size.

    What PyTorch's own quantization (``torch.ao.quantization``, now
    deprecated in favour of the separate ``torchao`` library) offers:

    - ``quantize_dynamic`` swaps ``nn.Linear`` and recurrent layers (LSTM,
      GRU) for int8 ones and quantizes activations on the fly. It has no
      convolutions, so on this all-conv generator it changes nothing.
    - int8 convolutions need **static** quantization: insert quant/dequant
      stubs, fuse conv + ReLU, attach observers, run calibration images
      through the network to fix the activations' ranges, then convert; the
      result runs on CPU int8 kernels (fbgemm on x86, qnnpack on ARM) only.
      That is real int8 arithmetic and can be faster on a CPU, but it also
      quantizes the activations, adds a calibration set to the recipe, and
      rewrites the model.

    The chapter uses weight-only int8, this function: it isolates the one
    question the table asks (what do 8-bit weights cost in quality, and save
    in size), needs no calibration data, runs the same on CPU, CUDA and Apple
    GPUs, and leaves the model an ordinary float32 ``ResnetGenerator``. It
    makes nothing faster.
    """
    net = copy.deepcopy(net)
    with torch.no_grad():
        for _, m in _convs(net):
            q, scale = _int8_per_channel(m.weight, _out_dim(m))
            m.weight.copy_(q.float() * scale)  # in place: the weight keeps its dtype and memory layout
    return net


def stored_size(net: nn.Module, *, bits: int = 32) -> int:
    """Bytes of ``net``'s state dict stored at ``bits`` per number and compressed with zlib (level 9).

    Exactly what is counted: the raw bytes of every tensor of
    ``net.state_dict()`` (parameters and buffers, in order), concatenated and
    compressed as one zlib stream. Names, shapes and file-format overhead are
    not counted. Each floating tensor is written as

    - ``bits=32``: float32;
    - ``bits=16``: float16;
    - ``bits=8``: for conv and transposed-conv weights, int8 values
      (:func:`quantize_int8`'s rounding) followed by one float32 scale per
      output channel; every other floating tensor (biases) as float32.

    Other tensors (integer counters) are written as they are. Compression is
    what lets zeros count: a pruned network is as long as a dense one in raw
    bytes, but its runs of zeros compress well (dense float weights hardly
    compress at all).
    """
    if bits not in (32, 16, 8):
        raise ValueError(f"bits must be 32, 16 or 8, got {bits}")
    conv_dims = {f"{name}.weight" if name else "weight": _out_dim(m) for name, m in _convs(net)}
    chunks: list[bytes] = []
    for key, t in net.state_dict().items():
        t = t.detach().cpu()
        if not t.is_floating_point():
            chunks.append(_bytes(t))
        elif bits == 8 and key in conv_dims:
            q, scale = _int8_per_channel(t, conv_dims[key])
            chunks += [_bytes(q), _bytes(scale)]
        else:
            chunks.append(_bytes(t.to(torch.float16 if bits == 16 else torch.float32)))
    return len(zlib.compress(b"".join(chunks), 9))


def _bytes(t: Tensor) -> bytes:
    return t.contiguous().numpy().tobytes()  # C order: the same bytes whatever the memory layout


def count_nonzero(net: nn.Module) -> int:
    """The number of ``net``'s parameters that are not zero (buffers not counted)."""
    return sum(int(torch.count_nonzero(p.detach())) for p in net.parameters())


def distill(teacher: nn.Module, student: nn.Module, images: Tensor, *, steps: int = 300, batch_size: int = 16,
            lr: float = 2e-3, generator: torch.Generator | None = None, progress: bool = False) -> list[float]:
    """Train ``student`` in place to reproduce ``teacher``: minimise ||student(x) - teacher(x)||₁ over ``images``.

    ``images`` (N, C, S, S) in [-1, 1] are the inputs (domain A for ``G``);
    each step draws ``batch_size`` of them at random (from ``generator``, so
    a seeded run repeats), runs the teacher without gradients, and takes an
    Adam step on the student's mean absolute difference to it. The teacher's
    own output is the target, not the ground truth: the student learns the
    trained translation, and needs no discriminator, no cycle and no second
    domain. The teacher is not modified (nor switched to eval: instance norm
    has no running statistics, so its mode makes no difference). Returns the
    loss of every step.
    """
    if images.dim() != 4:
        raise ValueError(f"images must be (N, C, S, S), got {tuple(images.shape)}")
    device = next(student.parameters()).device
    opt = torch.optim.Adam(student.parameters(), lr=lr)

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(len(images), (batch_size,), generator=generator)
        x = images[idx.to(images.device)].to(device)  # (batch_size, C, S, S)
        with torch.no_grad():
            target = teacher(x)  # (batch_size, C, S, S)
        loss = F_.l1_loss(student(x), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"l1": loss.item()}

    return fit(step, steps, progress=progress, desc="distill")["l1"]


@torch.no_grad()
def time_inference(net: nn.Module, images: Tensor, *, repeats: int = 5, warmup: int = 1) -> float:
    """Median seconds per image of ``net(images)``, one batch (B, C, S, S), without gradients.

    ``warmup`` untimed passes first (they pay for one-off costs: cuDNN picking
    algorithms, memory allocation), then ``repeats`` timed ones; the median is
    robust to a pass slowed by something else running. On a GPU the clock
    waits for the GPU to finish (kernels are launched asynchronously).
    """
    device = next(net.parameters()).device
    x = images.to(device)
    return statistics.median(time_call(lambda: net(x), device=device, repeats=repeats, warmup=warmup)) / len(x)
