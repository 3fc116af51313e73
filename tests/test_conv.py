"""From-scratch convolution, pooling and transposed convolution against torch.nn.functional (float64, 1e-5)."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import minigan
from minigan.nn.conv import (CNNConfig, Conv2d, ConvTranspose2d, DigitsCNN, avg_pool2d, conv2d,
                             conv_output_size, conv_transpose2d, conv_transpose_output_size, extract_patches,
                             max_pool2d)
from minigan.nn.mlp import MLP

from torch_check import TOL, check_forward_and_grads, leaves, max_diff

CONV_CASES = [
    dict(),
    dict(stride=2),
    dict(padding=1),
    dict(stride=2, padding=1),
    dict(stride=(1, 3), padding=(2, 0)),
    dict(stride=3, padding=2),
    dict(dilation=2, padding=2),
    dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2)),
]


@pytest.mark.parametrize("kernel", [(3, 3), (1, 1), (2, 5), (4, 3)])
@pytest.mark.parametrize("kwargs", CONV_CASES, ids=str)
def test_conv2d_matches_f_conv2d(kernel, kwargs):
    x, w, b = leaves((2, 3, 11, 10), (4, 3, *kernel), (4,))
    check_forward_and_grads(lambda x, w, b: conv2d(x, w, b, **kwargs),
                             lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


def test_conv2d_without_bias_and_on_a_non_contiguous_input():
    x, w = leaves((3, 2, 9, 7), (5, 2, 3, 3))
    xt = x.transpose(2, 3)  # (3, 2, 7, 9), not contiguous
    assert max_diff(conv2d(xt, w, padding=1), F.conv2d(xt, w, padding=1)) < TOL


def test_conv2d_float32_agrees_too():
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(4, 3, 16, 16, generator=g), torch.randn(8, 3, 3, 3, generator=g), torch.randn(8, generator=g)
    assert max_diff(conv2d(x, w, b, stride=2, padding=1), F.conv2d(x, w, b, stride=2, padding=1)) < 1e-4


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3), dict(kernel_size=(2, 3), stride=2, padding=1),
                                    dict(kernel_size=2, dilation=2, stride=(1, 2))], ids=str)
def test_extract_patches_are_the_columns_of_f_unfold(kwargs):
    x = torch.randn(2, 3, 8, 9, dtype=torch.float64)
    patches = extract_patches(x, **kwargs)  # (B, C, H_out, W_out, kH, kW)
    B, C, H_out, W_out, kH, kW = patches.shape
    cols = patches.permute(0, 1, 4, 5, 2, 3).reshape(B, C * kH * kW, H_out * W_out)
    assert max_diff(cols, F.unfold(x, **kwargs)) == 0
    assert patches.data_ptr() == x.data_ptr() or "padding" in kwargs  # a view, no copy (without padding)


def test_conv_output_size_matches_real_shapes():
    for size in (5, 8, 13, 32):
        for kernel in (1, 2, 3, 4, 7):
            for stride in (1, 2, 3):
                for padding in (0, 1, 3):
                    for dilation in (1, 2):
                        expected = conv_output_size(size, kernel, stride, padding, dilation)
                        if expected < 1 or padding > kernel // 2:  # torch refuses these
                            continue
                        x = torch.zeros(1, 1, size, size)
                        w = torch.zeros(1, 1, kernel, kernel)
                        out = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
                        assert out.shape[-1] == expected, (size, kernel, stride, padding, dilation)


def test_conv_transpose_output_size_matches_real_shapes_and_inverts_conv():
    for size in (1, 4, 7):
        for kernel in (1, 3, 4):
            for stride in (1, 2, 3):
                for padding in (0, 1):
                    for output_padding in range(stride):
                        expected = conv_transpose_output_size(size, kernel, stride, padding, output_padding)
                        if expected < 1:
                            continue
                        out = F.conv_transpose2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                                                 stride=stride, padding=padding, output_padding=output_padding)
                        assert out.shape[-1] == expected
                        # and the forward convolution maps it back to `size`
                        assert conv_output_size(expected, kernel, stride, padding) == size
    # CycleGAN's up-sampling layer doubles the size: 3x3, stride 2, padding 1, output_padding 1
    assert conv_transpose_output_size(64, 3, 2, 1, 1) == 128


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1),
                                    dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=(2, 1)),
                                    dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0))], ids=str)
def test_pooling_matches_torch(kwargs):
    (x,) = leaves((2, 3, 9, 8))
    check_forward_and_grads(lambda x: max_pool2d(x, **kwargs), lambda x: F.max_pool2d(x, **kwargs), (x,))
    check_forward_and_grads(lambda x: avg_pool2d(x, **kwargs), lambda x: F.avg_pool2d(x, **kwargs), (x,))


TRANSPOSE_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),  # CycleGAN's up-sampling layer
    dict(stride=2, padding=1),
    dict(stride=3, padding=4, output_padding=2),
    dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 0)),
    dict(dilation=2, padding=1),
    dict(stride=2, dilation=2, output_padding=1),
]


@pytest.mark.parametrize("kernel", [(3, 3), (4, 4), (1, 1), (2, 3)])
@pytest.mark.parametrize("kwargs", TRANSPOSE_CASES, ids=str)
def test_conv_transpose2d_matches_f_conv_transpose2d(kernel, kwargs):
    x, w, b = leaves((2, 3, 5, 6), (3, 4, *kernel), (4,))
    check_forward_and_grads(lambda x, w, b: conv_transpose2d(x, w, b, **kwargs),
                             lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs), (x, w, b))


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    # <conv2d(y, W), x> == <y, conv_transpose2d(x, W)> for every x, y: the "transpose" in the name.
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)  # conv2d: 3 -> 4 channels
    y = torch.randn(2, 3, 10, 10, generator=g, dtype=torch.float64)
    x = torch.randn(2, 4, 5, 5, generator=g, dtype=torch.float64)  # conv2d(y) is (2, 4, 5, 5)
    lhs = (conv2d(y, w, stride=2, padding=1) * x).sum()
    rhs = (y * conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)).sum()
    assert abs(lhs.item() - rhs.item()) < 1e-9


def test_errors_name_the_problem():
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="matching C_in"):
        conv2d(x, torch.zeros(2, 5, 3, 3))
    with pytest.raises(ValueError, match="does not fit"):
        conv2d(x, torch.zeros(2, 3, 5, 5))
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d(x, torch.zeros(3, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        max_pool2d(torch.zeros(3, 4, 4), 2)


def test_layers_initialise_like_torch_and_load_its_weights():
    torch.manual_seed(0)
    ours = Conv2d(3, 8, (3, 5), stride=2, padding=1)
    torch.manual_seed(0)
    ref = nn.Conv2d(3, 8, (3, 5), stride=2, padding=1)
    assert max_diff(ours.weight, ref.weight) == 0 and max_diff(ours.bias, ref.bias) == 0
    x = torch.randn(2, 3, 9, 9)
    assert max_diff(ours(x), ref(x)) < 1e-5

    torch.manual_seed(1)
    ours_t = ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)
    torch.manual_seed(1)
    ref_t = nn.ConvTranspose2d(8, 3, 3, stride=2, padding=1, output_padding=1)
    assert max_diff(ours_t.weight, ref_t.weight) == 0 and max_diff(ours_t.bias, ref_t.bias) == 0
    y = torch.randn(2, 8, 5, 5)
    assert max_diff(ours_t(y), ref_t(y)) < 1e-5

    no_bias = Conv2d(3, 4, 3, bias=False)
    no_bias.load_state_dict(nn.Conv2d(3, 4, 3, bias=False).state_dict())
    assert no_bias.bias is None and "bias=False" in repr(no_bias)


def test_digits_cnn_is_small_and_learns():
    cnn, mlp = DigitsCNN(), MLP(64, 10, hidden=128, depth=2)
    assert cnn(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert minigan.count_parameters(cnn) < minigan.count_parameters(mlp) / 3
    for name in CNNConfig.preset_names():  # every preset keeps the CNN smaller than the MLP
        cfg = CNNConfig.from_preset(name)
        assert (minigan.count_parameters(DigitsCNN(cfg.channels))
                < minigan.count_parameters(MLP(64, 10, hidden=cfg.mlp_hidden, depth=cfg.mlp_depth)))
    torch.manual_seed(0)
    from minigan.data import load_digits
    d = load_digits()
    minigan.fit_classifier(cnn, d.X_train, d.y_train, steps=150, lr=3e-3, progress=False)
    assert minigan.evaluate(cnn, d.X_test, d.y_test) > 0.8
    with pytest.raises(ValueError, match="divisible"):
        DigitsCNN((4, 4, 4, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_everything_runs_on_cuda():
    g = torch.Generator().manual_seed(0)
    x, w, wt = (torch.randn(2, 3, 8, 8, generator=g), torch.randn(4, 3, 3, 3, generator=g),
                torch.randn(3, 4, 3, 3, generator=g))
    xc, wc, wtc = x.cuda(), w.cuda(), wt.cuda()
    assert max_diff(conv2d(xc, wc, padding=1).cpu(), F.conv2d(x, w, padding=1)) < 1e-4
    assert max_diff(conv_transpose2d(xc, wtc, stride=2, padding=1, output_padding=1).cpu(),
                     F.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1)) < 1e-4
    assert max_diff(max_pool2d(xc, 2).cpu(), F.max_pool2d(x, 2)) == 0
    out = DigitsCNN().cuda()(torch.zeros(3, 1, 8, 8, device="cuda"))
    out.sum().backward()
    assert out.shape == (3, 10)
