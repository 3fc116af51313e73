"""The book's diagrams show what the code computes: receptive fields, windows, gates, stages and sizes."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from minigan import count_parameters  # noqa: E402
from minigan.cyclegan.networks import PatchDiscriminator, ResnetGenerator  # noqa: E402
from minigan.diagrams import (LSTM_GATES, activation_curves, draw_activations, draw_conv_geometry,  # noqa: E402
                              draw_im2col, draw_lstm_cell, draw_receptive_field, draw_resnet_generator,
                              draw_transformer_block, draw_unrolled_rnn, generator_stages, im2col, window_cells)
from minigan.nn import (Block, LSTMCell, conv_output_size, measured_receptive_field, pixels_seen,  # noqa: E402
                        receptive_fields)
from minigan.nn.conv import Conv2d  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


# receptive fields --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_layers, expected", [(1, 16), (2, 34), (3, 70)])
def test_patchgan_receptive_field_computed_equals_measured(n_layers, expected):
    D = PatchDiscriminator(ndf=4, n_layers=n_layers)
    fields = receptive_fields(D)
    assert fields[-1].field == expected
    assert measured_receptive_field(D, in_channels=3, size=160) == expected
    assert [f.field for f in fields][:2] == [4, 10]  # the two stride-2 4x4 convs every variant starts with


def test_receptive_field_of_a_mixed_stack_with_pooling_dilation_and_our_conv():
    stack = nn.Sequential(Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3, dilation=2),
                          nn.BatchNorm2d(2), nn.Conv2d(2, 2, 5, stride=3), nn.AvgPool2d(3, stride=1))
    fields = receptive_fields(stack)
    assert [(f.field, f.jump) for f in fields] == [(3, 1), (4, 2), (12, 2), (20, 6), (32, 6)]
    assert measured_receptive_field(stack, in_channels=1, size=96) == 32


def test_measured_receptive_field_refuses_an_input_too_small_and_upsampling_is_refused():
    with pytest.raises(ValueError, match="larger size"):
        measured_receptive_field(PatchDiscriminator(ndf=4), in_channels=3, size=64)
    with pytest.raises(TypeError, match="upsamples"):
        receptive_fields(ResnetGenerator(ngf=4, n_blocks=1))


# padding, stride, im2col --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size, k, s, p", [(5, 3, 1, 1), (5, 3, 2, 1), (5, 3, 2, 0), (7, 2, 2, 0), (6, 4, 3, 2)])
def test_window_cells_are_the_windows_of_the_definition(size, k, s, p):
    cells = window_cells(size, k, s, p)
    out = conv_output_size(size, k, s, p)
    assert sorted(cells) == [(i, j) for i in range(out) for j in range(out)]
    for (i, j), window in cells.items():
        assert window == [(i * s + a, j * s + b) for a in range(k) for b in range(k)]


def test_geometry_panels_state_the_output_size():
    cases = [(5, 3, 1, 1), (5, 3, 2, 1), (6, 4, 3, 2)]
    titles = [ax.get_title() for ax in draw_conv_geometry(cases).axes]
    for title, (size, k, s, p) in zip(titles, cases):
        assert title.endswith(f"= {conv_output_size(size, k, s, p)}")


def test_im2col_is_a_convolution_and_the_diagram_shows_its_numbers():
    torch.manual_seed(0)
    x, kernel = torch.randint(0, 6, (5, 4)).double(), torch.randint(-2, 3, (3, 3)).double()
    patches, out = im2col(x, kernel)
    assert patches.shape == (3 * 2, 9)
    assert torch.equal(out, F.conv2d(x[None, None], kernel[None, None])[0, 0])
    shown = texts(draw_im2col(x, kernel))
    for v in out.flatten().tolist():
        assert f"{v:g}" in shown


# activations --------------------------------------------------------------------------------------------------------

def test_activation_derivatives_are_the_closed_forms():
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    x = x[x != 0]  # ReLU's kink
    s, ds = activation_curves("sigmoid", x)
    assert torch.allclose(ds, s * (1 - s)) and ds.max() <= 0.25
    t, dt = activation_curves("tanh", x)
    assert torch.allclose(dt, 1 - t ** 2)
    assert torch.equal(activation_curves("ReLU", x)[1], (x > 0).double())
    assert torch.allclose(activation_curves("leaky ReLU (0.2)", x)[1], torch.where(x > 0, 1.0, 0.2).double())
    eps = 1e-6
    g_plus, g_minus = F.gelu(x + eps), F.gelu(x - eps)
    assert torch.allclose(activation_curves("GELU", x)[1], (g_plus - g_minus) / (2 * eps), atol=1e-6)
    fig = draw_activations()
    assert [len(ax.lines) >= 5 for ax in fig.axes] == [True, True]


# recurrent and Transformer --------------------------------------------------------------------------------------------

def test_the_lstm_diagram_gates_compute_what_lstmcell_computes():
    torch.manual_seed(0)
    cell = LSTMCell(3, 5)
    x, h, c = torch.randn(2, 3), torch.randn(2, 5), torch.randn(2, 5)
    pre = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    gates = {sym: squash(chunk) for (sym, squash, _), chunk in zip(LSTM_GATES, pre.chunk(4, dim=1))}
    c_new = gates["f"] * c + gates["i"] * gates["g"]  # the diagram's equations
    h_new = gates["o"] * torch.tanh(c_new)
    h_ref, c_ref = cell(x, (h, c))
    assert torch.allclose(c_new, c_ref) and torch.allclose(h_new, h_ref)
    assert r"$c_t = f \odot c_{t-1} + i \odot g$" in " ".join(texts(draw_lstm_cell()))


@pytest.mark.parametrize("steps", [3, 5])
def test_unrolled_rnn_has_one_cell_per_step_plus_the_folded_one(steps):
    shown = texts(draw_unrolled_rnn(steps))
    assert shown.count("cell") == steps + 1
    assert {f"$x_{t}$" for t in range(1, steps + 1)} <= set(shown)


def test_transformer_block_diagram_reads_the_block_and_its_order_is_the_blocks():
    torch.manual_seed(0)
    block = Block(48, 3).eval()
    shown = " ".join(texts(draw_transformer_block(block)))
    assert "3 heads of 16" in shown and "48 → 192" in shown and "causal" in shown
    x = torch.randn(2, 7, 48)
    x1 = x + block.attn(block.ln_1(x))  # the drawn order: LayerNorm, attention, add; LayerNorm, MLP, add
    assert torch.allclose(block(x), x1 + block.mlp(block.ln_2(x1)), atol=1e-6)


# CycleGAN's networks ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_blocks", [9, 6, 0])
def test_generator_stages_follow_the_paper_and_add_up(n_blocks):
    G = ResnetGenerator(ngf=8, n_blocks=n_blocks)
    stages = generator_stages(G, size=32)
    blocks = [f"R32 x {n_blocks}"] if n_blocks > 1 else []
    assert [s.name for s in stages] == ["c7s1-8", "d16", "d32", *blocks, "u16", "u8", "c7s1-3"]
    assert sum(s.layers for s in stages) == len(G.model)
    assert sum(s.parameters for s in stages) == count_parameters(G)
    shapes = [s.shape for s in stages]
    assert shapes[0] == (8, 32, 32) and shapes[2] == (32, 8, 8) and shapes[-1] == (3, 32, 32)


def test_the_reference_generator_diagram_states_its_parameter_count():
    shown = " ".join(texts(draw_resnet_generator(ResnetGenerator())))
    assert "11,378,179 parameters" in shown and "R256 x 9" in shown and "256x64x64" in shown


def test_patchgan_diagram_states_its_windows_and_score_map():
    shown = texts(draw_receptive_field(PatchDiscriminator(ndf=8), size=256))
    assert [t.rsplit(": ", 1)[-1] for t in shown if t.startswith("conv")] == ["4x4", "10x10", "22x22", "46x46",
                                                                              "70x70"]
    assert any(t.startswith("output 30x30") for t in shown)


def test_pixels_seen_counts_the_window_inside_the_image():
    seen = pixels_seen(nn.Conv2d(2, 3, 3, padding=1), in_channels=2, size=5)
    assert seen.tolist() == [[4, 6, 6, 6, 4], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [6, 9, 9, 9, 6], [4, 6, 6, 6, 4]]
    body = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    # the last layer's 10x10 windows, 4 pixels apart, start 3 pixels before the image: rows 0-6 or 1-7 of 8
    assert pixels_seen(body, in_channels=1, size=8).tolist() == [[49, 49], [49, 49]]
