"""The from-scratch MLP against autograd: same loss, same gradients (float64, 1e-6)."""
import pytest
import torch
import torch.nn.functional as F

from minigan.nn import ACTIVATIONS, MLP, ScratchMLP, softmax_cross_entropy

TOL = 1e-6


def _autograd_grads(scratch: ScratchMLP, x, y):
    model = scratch.to_torch()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[2, 2], [2, 8, 3], [5, 16, 16, 4], [3, 7, 1, 6, 2]])
def test_manual_backprop_equals_autograd(activation, sizes):
    g = torch.Generator().manual_seed(0)
    net = ScratchMLP(sizes, activation, generator=g, dtype=torch.float64)
    x = torch.randn(17, sizes[0], generator=g, dtype=torch.float64)
    y = torch.randint(0, sizes[-1], (17,), generator=g)

    loss, dlogits = softmax_cross_entropy(net(x), y)
    grads = net.backward(dlogits)
    ref_loss, ref_grads = _autograd_grads(net, x, y)

    assert abs(loss.item() - ref_loss.item()) < TOL
    assert len(grads) == len(ref_grads) == 2 * (len(sizes) - 1)
    for g_ours, g_ref in zip(grads, ref_grads):
        assert g_ours.shape == g_ref.shape
        assert (g_ours - g_ref).abs().max().item() < TOL


def test_softmax_cross_entropy_matches_torch_and_is_stable_for_huge_logits():
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [0.5, 0.25, 0.0]], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1, 0])
    loss, dlogits = softmax_cross_entropy(logits.detach(), y)
    ref = F.cross_entropy(logits, y)
    ref.backward()
    assert torch.isfinite(loss)
    assert torch.allclose(loss, ref.detach())
    assert torch.allclose(dlogits, logits.grad)


def test_sgd_steps_lower_the_loss_on_a_separable_problem():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 2, generator=g, dtype=torch.float64)
    y = (x[:, 0] + x[:, 1] > 0).long()
    net = ScratchMLP([2, 8, 2], "tanh", generator=g, dtype=torch.float64)
    first, _ = softmax_cross_entropy(net(x), y)
    for _ in range(200):
        loss, d = softmax_cross_entropy(net(x), y)
        net.sgd_step(net.backward(d), lr=0.5)
    assert loss.item() < 0.5 * first.item()


def test_torch_mlp_layout_and_copy():
    model = MLP(2, 3, hidden=16, depth=3, activation="relu")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    scratch = ScratchMLP([2, 16, 16, 16, 3], "relu", dtype=torch.float64)
    x = torch.randn(5, 2, dtype=torch.float64)
    assert torch.allclose(scratch.to_torch()(x), scratch(x))


def test_scratch_mlp_init_matches_nn_linear_bounds():
    net = ScratchMLP([100, 50, 2], generator=torch.Generator().manual_seed(0))
    assert net.weights[0].abs().max() <= 0.1 and net.weights[0].abs().max() > 0.09
    assert net.weights[0].shape == (50, 100) and net.biases[1].shape == (2,)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        ScratchMLP([2, 2], "gelu")
    with pytest.raises(RuntimeError, match="forward"):
        ScratchMLP([2, 2]).backward(torch.zeros(1, 2))
