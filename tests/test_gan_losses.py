"""GAN losses against hand-computed values and their gradient properties; step functions touch only their network."""
import math

import pytest
import torch
from torch import nn

from minigan.data.mixtures import grid_centers, mode_stats, ring_centers, sample_mixture
from minigan.gan import (LOSSES, clip_weights, d_loss_hinge, d_loss_lsgan, d_loss_minimax, d_loss_wasserstein,
                         d_step, frozen, g_loss_hinge, g_loss_lsgan, g_loss_nonsaturating, g_loss_saturating,
                         g_loss_wasserstein, g_step, get_loss, gradient_penalty, make_gan_step)

t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
logit = lambda p: math.log(p / (1 - p))  # noqa: E731


def test_minimax_losses_equal_their_closed_forms():
    # D(x) = 0.8 and 0.5 on two real samples, D(G(z)) = 0.1 and 0.4 on two fakes
    real, fake = t(logit(0.8), logit(0.5)), t(logit(0.1), logit(0.4))
    expected_d = -(math.log(0.8) + math.log(0.5)) / 2 - (math.log(0.9) + math.log(0.6)) / 2
    assert d_loss_minimax(real, fake).item() == pytest.approx(expected_d, abs=1e-12)
    assert g_loss_saturating(fake).item() == pytest.approx((math.log(0.9) + math.log(0.6)) / 2, abs=1e-12)
    assert g_loss_nonsaturating(fake).item() == pytest.approx(-(math.log(0.1) + math.log(0.4)) / 2, abs=1e-12)


def test_minimax_loss_equals_bce_and_stays_finite_for_confident_d():
    real, fake = torch.randn(7, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    bce = nn.BCEWithLogitsLoss()
    ref = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    assert d_loss_minimax(real, fake).item() == pytest.approx(ref.item(), abs=1e-12)
    assert torch.isfinite(d_loss_minimax(t(-200.0), t(200.0)))  # sigmoid would round to 0 and 1 here
    assert g_loss_nonsaturating(t(-200.0)).item() == pytest.approx(200.0)


def test_lsgan_is_half_mse_to_one_and_zero_for_d_and_mse_to_one_for_g():
    real, fake = t(1.0, 0.5, -1.0), t(0.0, 2.0)
    # 1/(2N) Σ (D(y) - 1)² + 1/(2N) Σ D(G(x))²
    assert d_loss_lsgan(real, fake).item() == pytest.approx((0 + 0.25 + 4) / 6 + (0 + 4) / 4, abs=1e-12)
    assert g_loss_lsgan(fake).item() == pytest.approx((1 + 1) / 2, abs=1e-12)
    # a PatchGAN map: N counts every patch output, so it is the mean over the whole (B, 1, H', W') map
    real_map, fake_map = torch.rand(2, 1, 3, 3), torch.rand(2, 1, 3, 3)
    mse = nn.MSELoss()
    ref = 0.5 * (mse(real_map, torch.ones_like(real_map)) + mse(fake_map, torch.zeros_like(fake_map)))
    assert d_loss_lsgan(real_map, fake_map).item() == pytest.approx(ref.item(), abs=1e-7)


def test_wasserstein_and_hinge_closed_forms():
    real, fake = t(2.0, 0.5, -1.0), t(-3.0, 0.5)
    assert d_loss_wasserstein(real, fake).item() == pytest.approx(-1.25 - 0.5)
    assert g_loss_wasserstein(fake).item() == pytest.approx(1.25)
    # max(0, 1 - D(x)): 0, 0.5, 2 ; max(0, 1 + D(G(z))): 0, 1.5
    assert d_loss_hinge(real, fake).item() == pytest.approx(2.5 / 3 + 1.5 / 2)
    assert g_loss_hinge(fake).item() == pytest.approx(1.25)


def _g_grad(loss_fn, p):
    fake = t(logit(p)).requires_grad_(True)
    loss_fn(fake).backward()
    return fake.grad.item()


def test_saturating_gradient_vanishes_when_d_rejects_fakes_and_nonsaturating_does_not():
    for p in (1e-2, 1e-4, 1e-6):  # D(G(z)) -> 0: D confidently rejects the fakes
        assert _g_grad(g_loss_saturating, p) == pytest.approx(-p, rel=1e-6)        # d/dlogit = -D(G(z)) -> 0
        assert _g_grad(g_loss_nonsaturating, p) == pytest.approx(p - 1, rel=1e-6)  # d/dlogit = D(G(z)) - 1 -> -1
    assert abs(_g_grad(g_loss_saturating, 1e-6)) < 1e-5 < 0.99 < abs(_g_grad(g_loss_nonsaturating, 1e-6))


def test_gradient_penalty_is_zero_for_a_unit_slope_linear_critic():
    critic = nn.Linear(5, 1, bias=True).double()
    with torch.no_grad():
        w = torch.randn(1, 5, dtype=torch.float64)
        critic.weight.copy_(w / w.norm())  # ||∇f|| = ||w|| = 1 everywhere: 1-Lipschitz with unit slope
    real, fake = torch.randn(16, 5, dtype=torch.float64), torch.randn(16, 5, dtype=torch.float64)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-12)
    with torch.no_grad():
        critic.weight.mul_(3.0)  # slope 3: penalty (3 - 1)² = 4 at every point
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(4.0, rel=1e-9)


def test_gradient_penalty_reaches_the_critic_and_works_on_images():
    critic = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 1))
    real, fake = torch.randn(3, 1, 6, 6), torch.randn(3, 1, 6, 6)
    gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    gp.backward()
    # ∇_x f does not depend on the biases, so only the weights receive a gradient from the penalty
    assert all(m.weight.grad is not None and m.weight.grad.abs().sum() > 0 for m in (critic[0], critic[2]))
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, real, fake[:2])


def test_clip_weights():
    net = nn.Linear(4, 4)
    with torch.no_grad():
        net.weight.mul_(100)
    clip_weights(net, 0.01)
    assert all(p.abs().max() <= 0.01 for p in net.parameters())


def _toy_pair(seed=0):
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    D = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    return G, D, torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)


def _snapshot(m):
    return [p.detach().clone() for p in m.parameters()]


def _changed(m, before):
    return any(not torch.equal(p, b) for p, b in zip(m.parameters(), before))


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_step_functions_update_only_their_network(loss):
    G, D, opt_G, opt_D = _toy_pair()
    real, z = torch.randn(16, 2), torch.randn(16, 2)
    g0, d0 = _snapshot(G), _snapshot(D)
    logs = d_step(D, opt_D, real, G(z), loss, generator=torch.Generator().manual_seed(0))
    assert _changed(D, d0) and not _changed(G, g0)
    assert all(p.grad is None for p in G.parameters())  # the fakes were detached: nothing flowed into G
    assert {"d_loss", "d_real", "d_fake"} <= logs.keys() and ("gp" in logs) == (loss == "wgan-gp")
    if loss == "wgan":
        assert all(p.abs().max() <= 0.01 for p in D.parameters())

    g1, d1 = _snapshot(G), _snapshot(D)
    opt_D.zero_grad(set_to_none=True)
    logs = g_step(G, D, opt_G, z, loss)
    assert _changed(G, g1) and not _changed(D, d1)
    assert all(p.grad is None for p in D.parameters()) and all(p.requires_grad for p in D.parameters())
    assert set(logs) == {"g_loss"}


def test_frozen_restores_flags_even_after_an_error():
    net = nn.Linear(2, 2)
    net.bias.requires_grad_(False)
    with pytest.raises(RuntimeError):
        with frozen(net):
            assert not any(p.requires_grad for p in net.parameters())
            raise RuntimeError
    assert net.weight.requires_grad and not net.bias.requires_grad


def test_make_gan_step_trains_a_1d_gan_towards_the_data():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    G = nn.Linear(1, 1)  # G(z) = a z + b: can match N(3, 0.5²) exactly
    D = nn.Sequential(nn.Linear(1, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    opt_G, opt_D = torch.optim.Adam(G.parameters(), 1e-2), torch.optim.Adam(D.parameters(), 1e-2)
    step = make_gan_step(G, D, opt_G, opt_D, lambda: 3 + 0.5 * torch.randn(128, 1, generator=g),
                         lambda n: torch.randn(n, 1, generator=g), "nonsaturating")
    for i in range(1500):
        logs = step(i)
    assert {"d_loss", "g_loss", "d_real", "d_fake"} <= logs.keys()
    assert abs(G.bias.item() - 3) < 0.3
    with pytest.raises(ValueError, match="n_critic"):
        make_gan_step(G, D, opt_G, opt_D, lambda: None, lambda n: None, n_critic=0)


def test_get_loss_and_registry():
    assert get_loss("wgan-gp").gp_weight == 10.0 and get_loss("wgan").clip == 0.01
    assert get_loss(LOSSES["hinge"]) is LOSSES["hinge"]
    with pytest.raises(ValueError, match="unknown GAN loss"):
        get_loss("bce")


def test_mixture_and_mode_stats():
    c = ring_centers(8, 2.0)
    assert c.shape == (8, 2) and torch.allclose(c.norm(dim=1), torch.full((8,), 2.0))
    assert grid_centers(5).shape == (25, 2)
    x = sample_mixture(4000, c, 0.05, generator=torch.Generator().manual_seed(0))
    good = mode_stats(x, c, 0.05)
    assert good.modes_covered == 8 and good.high_quality > 0.97 and good.kl < 0.01
    collapsed = mode_stats(c[[0, 0, 1]].repeat(100, 1), c, 0.05)
    assert collapsed.counts[:2] == (200, 100) and collapsed.modes_covered == 2
    assert collapsed.kl == pytest.approx((2 / 3) * math.log(2 / 3 * 8) + (1 / 3) * math.log(1 / 3 * 8))
    far = mode_stats(torch.zeros(10, 2), c, 0.05)
    assert far.modes_covered == 0 and far.high_quality == 0 and far.kl == pytest.approx(math.log(8))
    assert "8/8 modes covered" in str(good)
