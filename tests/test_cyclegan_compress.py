"""Compressing a CycleGAN generator: global magnitude pruning, per-channel int8 weights, stored sizes,
distillation into a thinner student, and inference timing. Tiny networks on 16x16 images."""
import math

import pytest
import torch
from torch import nn

from minigan.cyclegan import ResnetGenerator, init_weights
from minigan.cyclegan.compress import (count_nonzero, distill, prune_magnitude, quantize_int8, stored_size,
                                       time_inference)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks run fastest on one thread, and a second one only spins when the CPUs are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _net(seed: int = 0, **kw) -> ResnetGenerator:
    torch.manual_seed(seed)
    return ResnetGenerator(3, 3, **({"ngf": 8, "n_blocks": 1} | kw))


def _images(n: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _conv_weights(net: nn.Module) -> list[torch.Tensor]:
    return [m.weight.detach() for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def _same_state(a: nn.Module, b_state: dict) -> bool:
    return all(torch.equal(v, b_state[k]) for k, v in a.state_dict().items())


@pytest.mark.parametrize("amount", [0.3, 0.9])
def test_pruning_zeroes_the_globally_smallest_fraction_and_leaves_the_input_alone(amount):
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    pruned = prune_magnitude(net, amount)
    assert _same_state(net, before)
    w0 = torch.cat([w.flatten() for w in _conv_weights(net)])
    w1 = torch.cat([w.flatten() for w in _conv_weights(pruned)])
    zero = w1 == 0
    assert abs(int(zero.sum()) - amount * w0.numel()) <= 1  # the fraction, counted over all layers together
    assert w0[zero].abs().max() <= w0[~zero].abs().min()  # the smallest magnitudes are the ones zeroed
    assert torch.equal(w1[~zero], w0[~zero])  # the rest untouched
    for m0, m1 in zip(net.modules(), pruned.modules()):  # biases untouched, no mask or weight_orig left behind
        if isinstance(m0, (nn.Conv2d, nn.ConvTranspose2d)):
            assert torch.equal(m0.bias, m1.bias) and isinstance(m1.weight, nn.Parameter)
            assert not hasattr(m1, "weight_orig") and not hasattr(m1, "weight_mask")
    assert count_nonzero(pruned) == count_nonzero(net) - int(zero.sum())


def test_pruning_nothing_changes_nothing():
    net, x = _net(), _images()
    assert torch.equal(prune_magnitude(net, 0.0)(x), net(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        prune_magnitude(net, 1.5)


def test_pruning_and_int8_keep_a_channels_last_layout():
    net = _net()
    nhwc = _net().to(memory_format=torch.channels_last)  # the "gpu" preset's layout; prune needs NCHW inside
    for compress in (lambda n: prune_magnitude(n, 0.5), quantize_int8):
        a, b = _conv_weights(compress(net)), _conv_weights(compress(nhwc))
        assert all(torch.equal(u, v) for u, v in zip(a, b))
        assert all(v.is_contiguous(memory_format=torch.channels_last) and not v.is_contiguous() for v in b)
    assert stored_size(nhwc, bits=8) == stored_size(net, bits=8)


def test_int8_weights_are_multiples_of_each_output_channels_scale():
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    q = quantize_int8(net)
    assert _same_state(net, before)
    for m0, m1 in zip(net.modules(), q.modules()):
        if not isinstance(m0, (nn.Conv2d, nn.ConvTranspose2d)):
            continue
        w0, w1 = m0.weight.detach(), m1.weight.detach()
        out = 1 if isinstance(m0, nn.ConvTranspose2d) else 0
        others = [d for d in range(4) if d != out]
        scale = w0.abs().amax(dim=others, keepdim=True) / 127
        steps = w1 / scale
        assert torch.allclose(steps, steps.round(), atol=1e-3) and steps.abs().max() <= 127 + 1e-3
        assert ((w1 - w0).abs() <= scale / 2 + 1e-7).all()
        assert torch.equal(m0.bias, m1.bias) and w1.dtype == torch.float32
    x = _images()
    y0, y1 = net(x), q(x)
    assert (y1 - y0).abs().mean() / y0.abs().mean() < 0.02


def test_int8_takes_a_transposed_convs_scale_along_its_output_axis():
    net = _net()
    up = next(m for m in net.modules() if isinstance(m, nn.ConvTranspose2d))  # weight (in, out, kH, kW)
    with torch.no_grad():
        up.weight[:, 0] *= 1e-3  # one output channel of tiny weights
    w0 = up.weight[:, 0].detach().clone()
    q = quantize_int8(net)
    w1 = next(m for m in q.modules() if isinstance(m, nn.ConvTranspose2d)).weight[:, 0].detach()
    # with its own scale the small channel keeps 8 bits of precision; a scale taken over dim 0
    # (input channels, mixing in the large weights) would round it all to zero
    assert (w1 - w0).abs().max() <= w0.abs().max() / 254 + 1e-9
    assert (w1 != 0).float().mean() > 0.5


def test_stored_size_shrinks_with_bits_and_with_zeros():
    net = _net()
    s32, s16, s8 = (stored_size(net, bits=b) for b in (32, 16, 8))
    assert s8 < s16 < s32
    n = sum(p.numel() for p in net.parameters())
    assert s32 > 0.8 * 4 * n  # random float32 weights hardly compress
    assert stored_size(prune_magnitude(net, 0.9)) < 0.5 * s32
    with pytest.raises(ValueError, match="bits"):
        stored_size(net, bits=4)


def test_distillation_brings_the_student_close_to_a_frozen_teacher():
    # a teacher initialised as make_cyclegan does; a student of the same shape from another seed
    # (a thinner one also learns, but cannot halve the gap to a random teacher in 200 steps)
    teacher, student = init_weights(_net(0), generator=torch.Generator().manual_seed(0)), _net(1)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    images = _images(32, seed=1)

    def gap() -> float:
        with torch.no_grad():
            return (student(images) - teacher(images)).abs().mean().item()

    start = gap()
    losses = distill(teacher, student, images, steps=200, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert len(losses) == 200 and all(math.isfinite(v) for v in losses)
    assert gap() <= 0.5 * start
    assert _same_state(teacher, before) and all(p.grad is None for p in teacher.parameters())


def test_time_inference_is_a_positive_number_of_seconds():
    t = time_inference(_net(), _images(2), repeats=2)
    assert isinstance(t, float) and t > 0
