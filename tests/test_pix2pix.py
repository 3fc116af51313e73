"""pix2pix's networks, objective and step, against the reference's figures and the paper's definitions."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from minigan.config import ConfigError
from minigan.cyclegan.networks import PatchDiscriminator, receptive_field
from minigan.gan.losses import get_loss
from minigan.pix2pix import (Pix2PixConfig, UnetGenerator, conditional_input, d_objective, make_optimizers,
                             make_pix2pix, train_step, unet_128, unet_256, unet_widths)
from minigan.utils import count_parameters


def on_meta(build):
    with torch.device("meta"):
        return build()


# ---------------------------------------------------------------- the reference's parameter counts

def test_unet_256_has_the_references_parameter_count():
    # measured from the reference's define_G(3, 3, 64, "unet_256", "batch", use_dropout=True)
    assert count_parameters(on_meta(unet_256)) == 54_413_955


def test_conditional_patchgan_has_the_references_parameter_count():
    # define_D(6, 64, "basic", norm="batch"): the conditional D sees x and y, 3 + 3 channels
    D = on_meta(lambda: PatchDiscriminator(6, norm="batch"))
    assert count_parameters(D) == 2_768_705
    assert receptive_field(D) == 70


def counted_by_hand(num_downs: int, ngf: int = 64, c_in: int = 3, c_out: int = 3) -> int:
    """The U-Net's parameters from its definition: 4x4 convs without bias before batch norm, γ and β per channel."""
    w = unet_widths(num_downs, ngf)
    n = num_downs
    total = c_in * w[0] * 16 + sum(w[i - 1] * w[i] * 16 for i in range(1, n))  # encoder convs
    total += sum(2 * w[i] for i in range(1, n - 1))  # encoder norms (not the outermost, not the innermost)
    total += w[n - 1] * w[n - 2] * 16 + 2 * w[n - 2]  # innermost decoder stage: no skip to concatenate
    total += sum(2 * w[i] * w[i - 1] * 16 + 2 * w[i - 1] for i in range(1, n - 1))  # decoder stages with skips
    total += 2 * w[0] * c_out * 16 + c_out  # outermost: transposed conv with bias, then tanh
    return total


@pytest.mark.parametrize("num_downs", [5, 6, 7, 8])
def test_unet_parameters_are_the_definitions(num_downs):
    assert counted_by_hand(8) == 54_413_955  # the count by hand is the reference's where we know it
    G = on_meta(lambda: UnetGenerator(num_downs=num_downs))
    assert count_parameters(G) == counted_by_hand(num_downs)
    assert count_parameters(on_meta(unet_128)) == counted_by_hand(7) == 41_828_995


def test_dropout_sits_in_the_decoders_inner_stages():
    G = on_meta(unet_256)
    dropouts = [k for k, stage in enumerate(G.up) if any(isinstance(m, torch.nn.Dropout) for m in stage)]
    assert dropouts == [1, 2, 3]  # after the innermost stage: the three 8ngf -> 8ngf stages, as the reference's 8 - 5
    assert all(m.p == 0.5 for m in G.modules() if isinstance(m, torch.nn.Dropout))
    assert not any(isinstance(m, torch.nn.Dropout) for m in on_meta(lambda: unet_256(dropout=False)).modules())


# ---------------------------------------------------------------- shapes and skips

def test_unet_keeps_the_size_and_refuses_sizes_it_cannot_halve():
    G = UnetGenerator(num_downs=5, ngf=8).eval()
    out = G(torch.rand(2, 3, 64, 32) * 2 - 1)
    assert out.shape == (2, 3, 64, 32) and out.abs().max() <= 1
    with pytest.raises(ValueError, match="divisible by 32"):
        G(torch.zeros(1, 3, 48, 48))
    with pytest.raises(ValueError, match="at least 5"):
        UnetGenerator(num_downs=4)


def test_each_decoder_stage_gets_the_mirrored_encoder_output_first():
    torch.manual_seed(0)
    G = UnetGenerator(num_downs=5, ngf=4).eval()
    downs, ups = {}, {}
    for k, stage in enumerate(G.down):
        stage.register_forward_hook(lambda m, i, o, k=k: downs.__setitem__(k, o))
    for k, stage in enumerate(G.up):
        stage.register_forward_pre_hook(lambda m, i, k=k: ups.__setitem__(k, i[0]))
    G(torch.randn(1, 3, 32, 32))
    n = G.num_downs
    assert torch.equal(ups[0], downs[n - 1])  # the bottleneck goes straight up
    for k in range(1, n):  # decoder stage k sees [encoder output at its size, decoder output below]
        enc = downs[n - 1 - k]
        assert ups[k].shape[1] == 2 * enc.shape[1]
        assert torch.equal(ups[k][:, :enc.shape[1]], enc)


def test_without_skips_the_decoder_sees_only_the_stage_below():
    G = UnetGenerator(num_downs=5, ngf=4, skips=False).eval()
    assert G(torch.randn(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    assert [stage[1].in_channels for stage in G.up] == [32, 32, 16, 8, 4]
    assert count_parameters(G) < count_parameters(UnetGenerator(num_downs=5, ngf=4))


# ---------------------------------------------------------------- the objective

def test_conditional_input_is_x_then_y():
    x, y = torch.zeros(2, 3, 8, 8), torch.ones(2, 1, 8, 8)
    xy = conditional_input(x, y)
    assert xy.shape == (2, 4, 8, 8) and xy[:, :3].eq(0).all() and xy[:, 3:].eq(1).all()
    with pytest.raises(ValueError, match="same batch"):
        conditional_input(x, torch.ones(1, 3, 8, 8))


def test_d_objective_is_halved_for_every_loss():
    torch.manual_seed(0)
    real, fake = torch.randn(4, 1, 5, 5), torch.randn(4, 1, 5, 5)
    bce = F.binary_cross_entropy_with_logits
    vanilla = 0.5 * (bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)))  # the reference's
    assert torch.allclose(d_objective(get_loss("nonsaturating"), real, fake), vanilla)
    lsgan = 0.5 * (F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake)))
    assert torch.allclose(d_objective(get_loss("lsgan"), real, fake), lsgan)


def small(**overrides) -> Pix2PixConfig:
    return Pix2PixConfig.from_preset("cpu", **{"ngf": 4, "ndf": 4, **overrides})


def snapshot(net):
    return [p.detach().clone() for p in net.parameters()]


def changed(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_train_step_updates_d_then_g_with_the_papers_terms():
    cfg = small()
    model = make_pix2pix(cfg, generator=torch.Generator().manual_seed(0))
    opt_G, opt_D = make_optimizers(model)
    torch.manual_seed(1)
    x, y = torch.rand(4, 3, 32, 32) * 2 - 1, torch.rand(4, 3, 32, 32) * 2 - 1
    g0, d0 = snapshot(model.G), snapshot(model.D)
    logs = train_step(model, opt_G, opt_D, x, y)
    assert set(logs) == {"d", "g_gan", "l1", "g_total"}
    assert logs["g_total"] == pytest.approx(logs["g_gan"] + logs["l1"], rel=1e-6)
    assert 0 < logs["l1"] / cfg.lambda_l1 < 2  # a mean absolute error of images in [-1, 1]
    assert changed(g0, model.G) and changed(d0, model.D)
    assert all(p.requires_grad for p in model.D.parameters())  # the freeze is undone


def test_l1_alone_skips_d_and_learns_the_pairs():
    cfg = small(ngf=8, gan_loss=False, lr=2e-3)
    model = make_pix2pix(cfg, generator=torch.Generator().manual_seed(0))
    opt_G, opt_D = make_optimizers(model)
    g = torch.Generator().manual_seed(2)
    x = F.interpolate(torch.rand(4, 3, 8, 8, generator=g) * 2 - 1, size=32, mode="bilinear")  # smooth images
    y = -x  # a paired task with one right answer: the negative
    d0 = snapshot(model.D)
    first = train_step(model, opt_G, opt_D, x, y)
    assert set(first) == {"l1", "g_total"} and not changed(d0, model.D)
    for _ in range(30):
        last = train_step(model, opt_G, opt_D, x, y)
    # measured for seeds 0-2: 33-34 -> 7.0-8.5 after 30 steps (and 3.7-4.3 after 60)
    assert last["l1"] < 0.5 * first["l1"], (first, last)


def test_translate_is_repeatable_and_leaves_the_model_as_it_was():
    model = make_pix2pix(small(image_size=64, num_downs=6), generator=torch.Generator().manual_seed(0))
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.G.modules()) == 1  # 6 - 5 stages have dropout
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    stats = {k: v.clone() for k, v in model.G.state_dict().items()}
    a, b = model.translate(x), model.translate(x)
    assert torch.equal(a, b) and a.shape == x.shape  # the same dropout masks for the same seed
    assert not torch.equal(a, model.translate(x, seed=1))  # dropout is on, as in the paper
    assert all(torch.equal(v, model.G.state_dict()[k]) for k, v in stats.items())  # running stats untouched
    assert model.G.training
    model.G.eval()
    with torch.no_grad():
        assert torch.equal(model.translate(x, as_trained=False), model.G(x))
    assert not model.G.training


# ---------------------------------------------------------------- the config

def test_presets_build_networks_that_fit_their_images():
    for name in Pix2PixConfig.preset_names():
        cfg = Pix2PixConfig.from_preset(name)
        G = on_meta(lambda: UnetGenerator(cfg.in_channels, cfg.out_channels, num_downs=cfg.num_downs, ngf=cfg.ngf))
        assert cfg.image_size == 2 ** cfg.num_downs, name  # each preset's U-Net reaches 1x1, as unet_256 at 256
        assert count_parameters(G) > 0
    assert Pix2PixConfig().lambda_l1 == 100 and Pix2PixConfig().norm == "batch"


def test_config_refuses_what_the_networks_cannot_do():
    with pytest.raises(ConfigError, match="divisible by 2 \\*\\* num_downs = 256"):
        Pix2PixConfig(image_size=128)
    with pytest.raises(ConfigError, match="nothing to learn"):
        Pix2PixConfig(gan_loss=False, lambda_l1=0)
    with pytest.raises(ConfigError):
        Pix2PixConfig(norm="group")


# ---------------------------------------------------------------- training and resuming

def paired_images(n=8, size=64, seed=3):
    g = torch.Generator().manual_seed(seed)
    x = F.interpolate(torch.rand(n, 3, 8, 8, generator=g) * 2 - 1, size=size, mode="bilinear")
    return x, -x.flip(-1)


def test_a_resumed_run_is_the_uninterrupted_run(tmp_path):
    from minigan.pix2pix import Pix2PixTrainer
    cfg = small(image_size=64, num_downs=6, batch_size=2, n_epochs=1, n_epochs_decay=2, epoch_steps=2)
    x, y = paired_images()
    torch.manual_seed(5)
    straight = Pix2PixTrainer(cfg, x, y, seed=0)
    straight.fit(progress=False)
    torch.manual_seed(5)
    first = Pix2PixTrainer(cfg, x, y, seed=0)
    first.fit(progress=False, steps=3)  # stops inside an epoch, in the decay
    torch.save(first.state_dict(), tmp_path / "run.pt")
    torch.manual_seed(123)  # a fresh process: another global random state
    resumed = Pix2PixTrainer(cfg, x, y, seed=99)
    resumed.load_state_dict(torch.load(tmp_path / "run.pt", weights_only=True))
    resumed.fit(progress=False)
    assert resumed.iteration == straight.iteration == straight.total_steps == 6
    for name, net in straight.model.nets().items():
        for (k, a), b in zip(net.state_dict().items(), resumed.model.nets()[name].state_dict().values()):
            assert torch.equal(a, b), (name, k)
    assert resumed.history == straight.history and resumed.history.steps == straight.history.steps
    assert straight.history["lr"] == pytest.approx([1e-3, 1e-3, 1e-3 * 2 / 3, 1e-3 * 2 / 3, 1e-3 / 3, 1e-3 / 3])


def test_resume_refuses_other_networks_and_unaligned_data():
    from minigan.pix2pix import Pix2PixTrainer
    cfg = small()
    x, y = paired_images(size=32)
    state = Pix2PixTrainer(cfg, x, y).state_dict()
    with pytest.raises(ValueError, match="ngf=4 in the checkpoint but 8 here"):
        Pix2PixTrainer(small(ngf=8), x, y).load_state_dict(state)
    with pytest.raises(ValueError, match="as many images"):
        Pix2PixTrainer(cfg, x, y[:-1])
    with pytest.raises(ValueError, match="data_x must be images"):
        Pix2PixTrainer(cfg, x[:, :1], y)
    with pytest.raises(ValueError, match="between this run's iteration 0"):
        Pix2PixTrainer(cfg, x, y).fit(steps=10**6, progress=False)


def test_l1_alone_trains_without_warnings():
    import warnings
    from minigan.pix2pix import Pix2PixTrainer
    x, y = paired_images(n=4, size=32)
    trainer = Pix2PixTrainer(small(gan_loss=False, batch_size=2, n_epochs=1, n_epochs_decay=1, epoch_steps=2), x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a scheduler stepped for an optimizer that never stepped
        trainer.fit(progress=False)
    assert trainer.iteration == 4 and "d" not in trainer.history
