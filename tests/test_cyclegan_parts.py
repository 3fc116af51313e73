"""CycleGAN's parts against the reference: parameter counts, shapes, the 70x70 receptive field,
initialisation, the history pool's rule and the learning-rate schedule at its boundaries."""
import pytest
import torch
from torch import nn

from minigan.cyclegan import (CycleGANConfig, ImagePool, PatchDiscriminator, ResnetGenerator, init_weights,
                              linear_decay_factor, receptive_field)
from minigan.utils import count_parameters


@pytest.mark.parametrize("n_blocks, expected", [(9, 11_378_179), (6, 7_837_699)])
def test_generator_parameter_count_equals_the_reference(n_blocks, expected):
    assert count_parameters(ResnetGenerator(ngf=64, n_blocks=n_blocks)) == expected


def test_patchgan_parameter_count_and_receptive_field_equal_the_reference():
    D = PatchDiscriminator(ndf=64)
    assert count_parameters(D) == 2_764_737
    assert receptive_field(D) == 70


def test_shapes():
    G = ResnetGenerator(ngf=8, n_blocks=2)
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    y = G(x)
    assert y.shape == x.shape and y.abs().max() <= 1  # tanh output, same size in and out
    D = PatchDiscriminator(ndf=8)
    assert D(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # the paper's 30x30 patch map
    assert D(x).shape == (2, 1, 2, 4)
    with pytest.raises(ValueError, match="divisible by 4"):
        G(torch.zeros(1, 3, 30, 30))


def test_layers_are_the_references():
    G = ResnetGenerator(ngf=8, n_blocks=1)
    norms = [m for m in G.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(not m.affine and not m.track_running_stats for m in norms)
    assert isinstance(G.model[0], nn.ReflectionPad2d) and G.model[1].kernel_size == (7, 7)
    ups = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.output_padding for m in ups] == [(1, 1), (1, 1)] and all(m.stride == (2, 2) for m in ups)
    assert isinstance(G.model[-1], nn.Tanh)
    D = PatchDiscriminator(ndf=8)
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [m.stride[0] for m in convs] == [2, 2, 2, 1, 1] and [m.out_channels for m in convs] == [8, 16, 32, 64, 1]
    assert isinstance(D.model[1], nn.LeakyReLU) and D.model[1].negative_slope == 0.2  # no norm on the first layer
    assert not isinstance(D.model[-1], nn.Sigmoid)


def test_residual_block_is_identity_plus_branch():
    G = ResnetGenerator(ngf=4, n_blocks=1)
    block = next(m for m in G.modules() if type(m).__name__ == "ResnetBlock")
    x = torch.randn(2, 16, 8, 8)
    assert torch.allclose(block(x), x + block.block(x))
    for p in block.block.parameters():
        nn.init.zeros_(p)
    assert torch.equal(block(x), x)  # zero branch: the block passes its input through


def test_init_weights_normal_002():
    G = init_weights(ResnetGenerator(ngf=32, n_blocks=3), generator=torch.Generator().manual_seed(0))
    convs = [m for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    w = torch.cat([m.weight.flatten() for m in convs])
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.02)
    assert all(torch.all(m.bias == 0) for m in convs)


def test_pool_fills_then_swaps_half_the_time():
    pool = ImagePool(4, generator=torch.Generator().manual_seed(0))
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 4  # filling: returned as they are
    returned, swapped = [], 0
    for k in range(400):
        new = torch.full((1, 1, 1, 1), 100.0 + k)
        out = pool.query(new)
        assert len(pool) == 4 and out.shape == new.shape
        if not torch.equal(out, new):
            swapped += 1
            assert out.item() in set(returned) | set(first.flatten().tolist())  # an older fake, given earlier
        returned.append(new.item())
    assert 160 < swapped < 240  # probability 1/2
    stored = sorted(t.item() for t in pool.images)
    assert all(v >= 100 for v in stored[-2:])  # recent fakes made it into the pool


def test_pool_size_zero_and_detach():
    fake = torch.randn(3, 2, 4, 4, requires_grad=True)
    out = ImagePool(0).query(fake * 2)
    assert not out.requires_grad and torch.equal(out, fake.detach() * 2)
    out = ImagePool(50).query(fake * 2)
    assert not out.requires_grad
    with pytest.raises(ValueError):
        ImagePool(-1)


def test_pool_is_repeatable_with_a_seed():
    def run(seed):
        pool = ImagePool(3, generator=torch.Generator().manual_seed(seed))
        return torch.cat([pool.query(torch.full((2, 1, 1, 1), float(k))) for k in range(30)])
    assert torch.equal(run(1), run(1)) and not torch.equal(run(1), run(2))


def test_linear_decay_at_its_boundaries():
    f = lambda e: linear_decay_factor(e, 100, 100)  # noqa: E731  the paper: 100 epochs constant, 100 decaying
    assert f(0) == f(99) == 1.0
    assert f(100) == pytest.approx(100 / 101)
    assert f(199) == pytest.approx(1 / 101)  # the last epoch still trains, at 1/101 of the rate
    assert f(200) == pytest.approx(0.0)
    assert all(f(e) > f(e + 1) for e in range(99, 200))
    opt = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=2e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: linear_decay_factor(e, 2, 3))
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step(), sched.step()
    assert lrs == pytest.approx([2e-4, 2e-4, 1.5e-4, 1e-4, 0.5e-4])
    with pytest.raises(ValueError):
        linear_decay_factor(-1, 1, 1)


def test_config_presets():
    paper = CycleGANConfig.from_preset("paper")
    assert (paper.image_size, paper.ngf, paper.n_blocks, paper.ndf, paper.lambda_cycle, paper.lambda_identity,
            paper.pool_size, paper.lr, paper.betas, paper.batch_size, paper.total_epochs, paper.loss) == \
        (256, 64, 9, 64, 10.0, 0.5, 50, 2e-4, (0.5, 0.999), 1, 200, "lsgan")
    gpu = CycleGANConfig.from_preset("gpu")
    assert gpu.image_size == 128 and gpu.n_blocks == 6
    assert CycleGANConfig.from_preset("cpu").image_size % 4 == 0
    with pytest.raises(ValueError, match="divisible by 4"):
        CycleGANConfig(image_size=30)
