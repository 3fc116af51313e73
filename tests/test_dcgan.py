"""DCGAN networks (shapes, init, errors), its training through the shared step functions, and the digit score."""
import pytest
import torch
from torch import nn

from minigan.data.digits import load_digits
from minigan.gan.dcgan import (DCGANConfig, Discriminator, Generator, dcgan_init_, interpolate, make_dcgan,
                               train_dcgan)
from minigan.gan.metrics import digit_score, train_digit_classifier
from minigan.gan.steps import d_step, g_step


@pytest.fixture(scope="module")
def classifier():
    return train_digit_classifier(steps=200, progress=False)


@pytest.fixture(scope="module")
def digits():
    return load_digits(value_range=(-1, 1))


def _params(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return [not torch.equal(a, b) for a, b in zip(before, module.parameters())]


@pytest.mark.parametrize("preset", DCGANConfig.preset_names())
def test_shapes_of_both_networks(preset):
    cfg = DCGANConfig.from_preset(preset)
    gan = make_dcgan(cfg)
    z = torch.randn(5, cfg.z_dim)
    x = gan.G(z)
    assert x.shape == (5, 1, 8, 8)
    assert x.abs().max() <= 1  # tanh output
    assert gan.D(x).shape == (5, 1)


def test_networks_name_the_mistake_in_their_errors():
    G, D = Generator(z_dim=16), Discriminator()
    with pytest.raises(ValueError, match=r"latent codes of shape \(B, 16\)"):
        G(torch.randn(4, 1, 8, 8))  # an image batch instead of noise
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        D(torch.randn(4, 3, 8, 8))  # RGB images into a grayscale D
    with pytest.raises(ValueError, match="snapshot_z"):
        train_dcgan(DCGANConfig(), steps=1, snapshot_steps=(0,))


def test_dcgan_init_statistics():
    net = dcgan_init_(nn.Sequential(Generator(z_dim=64, ngf=128), Discriminator(ndf=128)),
                      generator=torch.Generator().manual_seed(0))
    convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    w = torch.cat([m.weight.flatten() for m in convs])
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.02)
    assert all(m.bias is None or torch.all(m.bias == 0) for m in convs)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    gamma = torch.cat([m.weight.detach() for m in bns])
    assert gamma.mean().item() == pytest.approx(1.0, abs=4e-3) and gamma.std().item() == pytest.approx(0.02, rel=0.15)
    assert all(torch.all(m.bias == 0) for m in bns)
    # the first D layer has no BatchNorm, the others do; G has none on its output layer
    D = Discriminator()
    assert isinstance(D.net[1], nn.LeakyReLU) and D.net[1].negative_slope == 0.2
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == 1
    assert isinstance(Generator().net[-1], nn.Tanh) and isinstance(Generator().net[-2], nn.ConvTranspose2d)


def test_each_step_changes_only_its_network(digits):
    cfg = DCGANConfig()
    gan = make_dcgan(cfg, generator=torch.Generator().manual_seed(0))
    opt_G = torch.optim.Adam(gan.G.parameters(), lr=1e-3)
    opt_D = torch.optim.Adam(gan.D.parameters(), lr=1e-3)
    real, z = digits.X_train[:16], torch.randn(16, cfg.z_dim)

    G0, D0 = _params(gan.G), _params(gan.D)
    logs = d_step(gan.D, opt_D, real, gan.G(z), "nonsaturating")  # fakes with a graph to G: d_step detaches
    assert not any(_changed(G0, gan.G)) and all(_changed(D0, gan.D))
    assert all(p.grad is None for p in gan.G.parameters())
    assert {"d_loss", "d_real", "d_fake"} <= set(logs)

    G0, D0 = _params(gan.G), _params(gan.D)
    g_step(gan.G, gan.D, opt_G, z, "nonsaturating")
    assert all(_changed(G0, gan.G)) and not any(_changed(D0, gan.D))
    assert all(p.requires_grad for p in gan.D.parameters())  # frozen only during the step


def test_eval_mode_samples_do_not_depend_on_the_batch():
    gan = train_dcgan(DCGANConfig(), steps=5, desc="test")
    assert gan.G.training  # training leaves G in train mode; generate() restores it
    z = torch.randn(6, gan.cfg.z_dim, generator=torch.Generator().manual_seed(1))
    batch, one = gan.generate(z), gan.generate(z[:1])
    assert torch.allclose(batch[:1], one, atol=1e-6) and gan.G.training
    in_train_mode = gan.generate(z[:3], train_mode=True)
    assert not torch.allclose(in_train_mode[:1], gan.generate(z[:2], train_mode=True)[:1], atol=1e-4)


def test_snapshots_are_taken_at_the_requested_steps():
    cfg = DCGANConfig()
    z = torch.randn(4, cfg.z_dim)
    gan = train_dcgan(cfg, steps=3, snapshot_z=z, snapshot_steps=(0, 2), desc="test")
    assert sorted(gan.snapshots) == [0, 2] and gan.snapshots[2].shape == (4, 1, 8, 8)
    assert len(gan.history["d_loss"]) == 3 and "g_loss" in gan.history


def test_interpolation_ends_and_norms():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(32, generator=g, dtype=torch.float64), torch.randn(32, generator=g, dtype=torch.float64)
    lin = interpolate(z0, z1, 5)
    assert lin.shape == (5, 32) and torch.allclose(lin[0], z0) and torch.allclose(lin[-1], z1)
    assert torch.allclose(lin[2], (z0 + z1) / 2)
    z1 = z1 / z1.norm() * z0.norm()
    slerp = interpolate(z0, z1, 7, spherical=True)
    assert torch.allclose(slerp[0], z0) and torch.allclose(slerp[-1], z1)
    assert torch.allclose(slerp.norm(dim=1), z0.norm().expand(7))  # stays on the sphere
    assert interpolate(z0, z1, 7).norm(dim=1)[3] < 0.9 * z0.norm()  # the straight line cuts inside it
    with pytest.raises(ValueError, match="same shape"):
        interpolate(z0, z1[:3])


def test_digit_score_on_real_collapsed_and_noise(classifier, digits):
    real = digit_score(classifier, digits.X_test)
    assert real.coverage == 10 and real.entropy > 0.95 and real.confidence > 0.9 and real.inception_score > 7
    assert real.counts.sum() == len(digits.X_test)
    ones = digit_score(classifier, digits.X_test[digits.y_test == 1])  # a collapsed "generator"
    assert ones.counts[1] >= 0.9 * ones.counts.sum() and ones.entropy < 0.2 and ones.inception_score < 1.5
    noise = digit_score(classifier, torch.rand(500, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    # noise may spread over many classes, but the classifier is far less sure of it than of real digits
    assert noise.confidence < real.confidence - 0.15 and noise.inception_score < real.inception_score / 2
    # the value range is undone before classifying
    assert digit_score(classifier, (digits.X_test + 1) / 2, value_range=(0, 1)).counts.tolist() == real.counts.tolist()
    # the classifier is float64 (identical on every CPU); float32 GAN outputs are cast to it
    assert next(classifier.parameters()).dtype == torch.float64
    assert digit_score(classifier, digits.X_test.float()).counts.tolist() == real.counts.tolist()


def test_digit_score_errors(classifier):
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        digit_score(classifier, torch.zeros(4, 64))
    with pytest.raises(ValueError, match="at least 2"):
        digit_score(classifier, torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match="min_share"):
        digit_score(classifier, torch.zeros(4, 1, 8, 8), min_share=2.0)


def test_short_training_moves_the_score_toward_real_digits(classifier):
    cfg = DCGANConfig()
    g = lambda: torch.Generator().manual_seed(1)  # noqa: E731
    before = digit_score(classifier, make_dcgan(cfg, generator=torch.Generator().manual_seed(0)).sample(500, generator=g()))
    after = digit_score(classifier, train_dcgan(cfg, steps=150, desc="test").sample(500, generator=g()))
    assert before.coverage <= 3 and after.coverage >= 8
    assert after.entropy > before.entropy + 0.5 and after.inception_score > before.inception_score + 2
