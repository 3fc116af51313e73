"""The from-scratch RNN and LSTM against nn.RNN / nn.LSTM: same outputs, same gradients (float64)."""
import pytest
import torch
from torch import nn

from minigan.nn.recurrent import (CharLMConfig, LSTMCell, RNNCell, gradient_norms_over_time, lstm, rnn)

from torch_check import TOL, leaves, max_diff

B, T, I, H = 3, 7, 5, 6


def _param_grads(module):
    return [p.grad for p in module.parameters()]


@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_matches_nn_rnn_forward_and_gradients(with_h0):
    torch.manual_seed(0)
    ref = nn.RNN(I, H, batch_first=True).double()
    cell = RNNCell.from_torch(ref)
    x, h0, w_out = leaves((B, T, I), (B, H), (B, T, H))
    x2, h02 = x.detach().clone().requires_grad_(True), h0.detach().clone().requires_grad_(True)

    out, h = rnn(cell, x, h0 if with_h0 else None)  # (B, T, H), (B, H)
    ref_out, ref_h = ref(x2, h02[None] if with_h0 else None)  # (B, T, H), (1, B, H)
    assert max_diff(out, ref_out) < TOL and max_diff(h, ref_h[0]) < TOL

    # a loss that touches every output and the last state, so every gradient path is checked
    ((out * w_out.detach()).sum() + h.square().sum()).backward()
    ((ref_out * w_out.detach()).sum() + ref_h.square().sum()).backward()
    assert max_diff(x.grad, x2.grad) < TOL
    if with_h0:
        assert max_diff(h0.grad, h02.grad) < TOL
    for ours, theirs in zip(_param_grads(cell), _param_grads(ref)):
        assert max_diff(ours, theirs) < TOL


@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_matches_nn_lstm_forward_and_gradients(with_state):
    torch.manual_seed(1)
    ref = nn.LSTM(I, H, batch_first=True).double()
    cell = LSTMCell.from_torch(ref)
    x, h0, c0, w_out = leaves((B, T, I), (B, H), (B, H), (B, T, H), seed=1)
    x2, h02, c02 = (t.detach().clone().requires_grad_(True) for t in (x, h0, c0))

    out, (h, c) = lstm(cell, x, (h0, c0) if with_state else None)
    ref_out, (ref_h, ref_c) = ref(x2, (h02[None], c02[None]) if with_state else None)
    assert max_diff(out, ref_out) < TOL
    assert max_diff(h, ref_h[0]) < TOL and max_diff(c, ref_c[0]) < TOL

    ((out * w_out.detach()).sum() + h.square().sum() + c.square().sum()).backward()
    ((ref_out * w_out.detach()).sum() + ref_h.square().sum() + ref_c.square().sum()).backward()
    assert max_diff(x.grad, x2.grad) < TOL
    if with_state:
        assert max_diff(h0.grad, h02.grad) < TOL and max_diff(c0.grad, c02.grad) < TOL
    for ours, theirs in zip(_param_grads(cell), _param_grads(ref)):
        assert max_diff(ours, theirs) < TOL


def test_lstm_gate_order_is_i_f_g_o():
    # Open only the forget gate's bias: c' = sigmoid(big) * c + sigmoid(0) * tanh(0) = c.
    cell = LSTMCell(I, H, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.zero_()
        cell.bias_ih[H:2 * H] = 50.0  # f
    c0 = torch.randn(B, H, dtype=torch.float64)
    _, c = cell(torch.randn(B, I, dtype=torch.float64), (torch.zeros(B, H, dtype=torch.float64), c0))
    assert torch.allclose(c, c0)


@pytest.mark.parametrize("Cell", [RNNCell, LSTMCell])
def test_to_torch_round_trip_and_parameter_layout(Cell):
    cell = Cell(I, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    k = 1 if Cell is RNNCell else 4
    assert cell.weight_ih.shape == (k * H, I) and cell.weight_hh.shape == (k * H, H)
    assert cell.bias_ih.shape == cell.bias_hh.shape == (k * H,)
    assert all(p.abs().max() <= H ** -0.5 for p in cell.parameters())  # nn.RNN's init range
    x = torch.randn(B, T, I, dtype=torch.float64)
    module = cell.to_torch()
    ours = (rnn if Cell is RNNCell else lstm)(cell, x)[0]
    assert max_diff(ours, module(x)[0]) < 1e-12
    assert all(torch.equal(p, q) for p, q in zip(Cell.from_torch(module).parameters(), cell.parameters()))


def test_same_generator_same_weights():
    a = LSTMCell(I, H, generator=torch.Generator().manual_seed(3))
    b = LSTMCell(I, H, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_gradient_norms_over_time_is_deterministic_and_measures_decay():
    cell = RNNCell(I, H, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    a = gradient_norms_over_time(cell, 20, generator=torch.Generator().manual_seed(1))
    b = gradient_norms_over_time(cell, 20, generator=torch.Generator().manual_seed(1))
    assert a.shape == (20,) and torch.equal(a, b) and (a > 0).all()

    # With no recurrent weights, nothing before the last step influences the loss.
    with torch.no_grad():
        cell.weight_hh.zero_()
    n = gradient_norms_over_time(cell, 10, generator=torch.Generator().manual_seed(1))
    assert (n[:-1] == 0).all() and n[-1] > 0

    # Small recurrent weights: the gradient shrinks geometrically going back in time.
    with torch.no_grad():
        nn.init.orthogonal_(cell.weight_hh, gain=0.5)
    n = gradient_norms_over_time(cell, 30, generator=torch.Generator().manual_seed(1))
    assert n[0] < 1e-6 * n[-1]


def test_gradient_norms_match_a_hand_computed_one_step_case():
    # T = 1: L = <tanh(W_ih x + b), v>, so dL/dx = W_ih^T ((1 - h^2) * v).
    cell = RNNCell(I, H, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    n = gradient_norms_over_time(cell, 1, batch_size=4, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    x = torch.randn(4, 1, I, generator=g, dtype=torch.float64)[:, 0]
    v = torch.randn(4, H, generator=g, dtype=torch.float64)
    with torch.no_grad():
        h = cell(x, torch.zeros(4, H, dtype=torch.float64))
        expected = (((1 - h ** 2) * v) @ cell.weight_ih).norm()
    assert abs(n[0].item() - expected.item()) < 1e-12


def test_errors_name_the_problem():
    cell = RNNCell(I, H)
    with pytest.raises(ValueError, match=r"\(B, T, I\) with I = 5"):
        rnn(cell, torch.randn(B, T, I + 1))
    with pytest.raises(ValueError, match="batch first"):
        lstm(LSTMCell(I, H), torch.randn(T, I))
    with pytest.raises(TypeError, match="tanh nn.RNN"):
        RNNCell.from_torch(nn.RNN(I, H, nonlinearity="relu"))
    with pytest.raises(TypeError, match="RNNCell or LSTMCell"):
        gradient_norms_over_time(nn.RNN(I, H), 5)
    with pytest.raises(ValueError, match="T must be"):
        gradient_norms_over_time(cell, 0)


def test_char_lm_config_presets():
    cpu, gpu = CharLMConfig.from_preset("cpu"), CharLMConfig.from_preset("gpu")
    assert CharLMConfig.from_preset("auto", device="cpu") == cpu
    assert gpu.hidden > cpu.hidden and gpu.steps > cpu.steps
    assert CharLMConfig.from_preset("cpu", steps=10).steps == 10
