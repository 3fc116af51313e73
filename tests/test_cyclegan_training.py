"""CycleGAN's training step against the reference's recipe: what each step updates, what each loss is,
and a 16x16 smoke run of the whole loop with its learning-rate schedule."""
import math

import pytest
import torch

from minigan.cyclegan import (CycleGANConfig, CycleGANTrainer, TensorPairs, ImagePool, discriminator_step, generator_step,
                              make_cyclegan, make_optimizers, train_cyclegan)
from minigan.gan.losses import d_loss_lsgan

TINY = dict(image_size=16, ngf=4, n_blocks=1, ndf=4, n_layers_d=2, batch_size=2)


@pytest.fixture
def setup():
    cfg = CycleGANConfig(**TINY)
    model = make_cyclegan(cfg, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1, torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    return model, x, y


def snapshot(*nets):
    return [p.detach().clone() for n in nets for p in n.parameters()]


def changed(before, *nets):
    return [not torch.equal(a, b) for a, b in zip(before, [p for n in nets for p in n.parameters()])]


def test_generator_step_updates_G_and_F_only(setup):
    model, x, y = setup
    opt_G, _ = make_optimizers(model)
    gens, discs = snapshot(model.G, model.F), snapshot(model.D_X, model.D_Y)
    logs, fake_x, fake_y = generator_step(model, opt_G, x, y)
    assert all(changed(gens, model.G, model.F)) and not any(changed(discs, model.D_X, model.D_Y))
    assert all(p.grad is None for n in (model.D_X, model.D_Y) for p in n.parameters())  # D got no gradient
    assert all(p.requires_grad for n in (model.D_X, model.D_Y) for p in n.parameters())  # and is unfrozen after
    assert not fake_x.requires_grad and fake_y.shape == y.shape
    assert set(logs) == {"g_gan", "f_gan", "cycle_x", "cycle_y", "idt_x", "idt_y", "g_total"}
    assert logs["g_total"] == pytest.approx(sum(v for k, v in logs.items() if k != "g_total"), rel=1e-6)


def test_generator_losses_are_the_papers(setup):
    model, x, y = setup
    before = make_cyclegan(model.cfg, generator=torch.Generator().manual_seed(0))  # the same weights
    opt_G, _ = make_optimizers(model)
    logs, _, _ = generator_step(model, opt_G, x, y)
    with torch.no_grad():
        G, F_, D_X, D_Y = before.G, before.F, before.D_X, before.D_Y
        assert logs["cycle_x"] == pytest.approx(10 * (F_(G(x)) - x).abs().mean().item(), rel=1e-5)  # λ ||F(G(x)) - x||
        assert logs["cycle_y"] == pytest.approx(10 * (G(F_(y)) - y).abs().mean().item(), rel=1e-5)
        assert logs["idt_y"] == pytest.approx(5 * (G(y) - y).abs().mean().item(), rel=1e-5)  # 0.5 λ ||G(y) - y||
        assert logs["idt_x"] == pytest.approx(5 * (F_(x) - x).abs().mean().item(), rel=1e-5)
        assert logs["g_gan"] == pytest.approx(((D_Y(G(x)) - 1) ** 2).mean().item(), rel=1e-5)  # LSGAN: (D-1)²
        assert logs["f_gan"] == pytest.approx(((D_X(F_(y)) - 1) ** 2).mean().item(), rel=1e-5)


def test_identity_loss_can_be_switched_off():
    cfg = CycleGANConfig(**TINY, lambda_identity=0.0)
    model = make_cyclegan(cfg)
    opt_G, _ = make_optimizers(model)
    logs, _, _ = generator_step(model, opt_G, torch.zeros(2, 3, 16, 16), torch.zeros(2, 3, 16, 16))
    assert "idt_x" not in logs and "idt_y" not in logs


def test_cycle_loss_can_be_switched_off_and_identity_keeps_its_weight(setup):
    model, x, y = setup
    model.cfg = CycleGANConfig(**TINY, cycle_loss=False)
    before = make_cyclegan(model.cfg, generator=torch.Generator().manual_seed(0))  # the same weights
    logs, _, _ = generator_step(model, make_optimizers(model)[0], x, y)
    assert set(logs) == {"g_gan", "f_gan", "idt_x", "idt_y", "g_total"}
    with torch.no_grad():
        assert logs["idt_y"] == pytest.approx(5 * (before.G(y) - y).abs().mean().item(), rel=1e-5)


def test_discriminator_step_updates_D_X_and_D_Y_only(setup):
    model, x, y = setup
    _, opt_D = make_optimizers(model)
    fake_x, fake_y = model.F(y), model.G(x)  # with graphs back to F and G: the step must not use them
    gens, discs = snapshot(model.G, model.F), snapshot(model.D_X, model.D_Y)
    with torch.no_grad():
        expected_y = d_loss_lsgan(model.D_Y(y), model.D_Y(fake_y)).item()  # ½ (D(y)-1)² + ½ D(G(x))², means
    logs = discriminator_step(model, opt_D, x, y, fake_x, fake_y, ImagePool(0), ImagePool(0))
    assert all(changed(discs, model.D_X, model.D_Y)) and not any(changed(gens, model.G, model.F))
    assert all(p.grad is None for n in (model.G, model.F) for p in n.parameters())
    assert logs["d_y"] == pytest.approx(expected_y, rel=1e-6)


@pytest.mark.parametrize("lambda_identity", [0.5, 0.0])
def test_stacked_calls_compute_what_separate_calls_do(monkeypatch, lambda_identity):
    """The steps may stack a network's inputs into one call; losses and gradients must not change."""
    import minigan.cyclegan.batching as batching
    g = torch.Generator().manual_seed(1)
    x, y = (torch.rand(n, 3, 16, 16, generator=g, dtype=torch.float64) * 2 - 1 for n in (2, 3))
    runs = {}
    for limit in (2 ** 20, 0):  # stacked (16x16 is far below the limit), then one call per input
        monkeypatch.setattr(batching, "STACK_MAX_FLOATS", limit)
        model = make_cyclegan(CycleGANConfig(**TINY, lambda_identity=lambda_identity),
                              generator=torch.Generator().manual_seed(0))
        for net in (model.G, model.F, model.D_X, model.D_Y):
            net.double()  # in float64 the two ways agree to rounding, not just to float32's 1e-4
        opt_G, opt_D = make_optimizers(model)
        g_logs, fake_x, fake_y = generator_step(model, opt_G, x, y)
        g_grads = [p.grad.clone() for n in (model.G, model.F) for p in n.parameters()]
        d_logs = discriminator_step(model, opt_D, x, y, fake_x, fake_y, ImagePool(0), ImagePool(0))
        d_grads = [p.grad.clone() for n in (model.D_X, model.D_Y) for p in n.parameters()]
        runs[limit] = g_logs, d_logs, g_grads, d_grads
    (g1, d1, gg1, dg1), (g2, d2, gg2, dg2) = runs[2 ** 20], runs[0]
    assert g1 == pytest.approx(g2, rel=1e-12) and d1 == pytest.approx(d2, rel=1e-12)
    for a, b in zip(gg1 + dg1, gg2 + dg2):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_optimizers_are_the_papers_adam():
    model = make_cyclegan(CycleGANConfig(**TINY))
    opt_G, opt_D = make_optimizers(model)
    for opt, nets in ((opt_G, (model.G, model.F)), (opt_D, (model.D_X, model.D_Y))):
        assert isinstance(opt, torch.optim.Adam) and opt.defaults["fused"]  # PyTorch's one-pass Adam on a CPU
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)
        assert {id(p) for p in opt.param_groups[0]["params"]} == {id(p) for n in nets for p in n.parameters()}


def test_translate_directions(setup):
    model, x, _ = setup
    assert torch.equal(model.translate(x, to="y"), model.G(x).detach())
    assert torch.equal(model.translate(x, to="x"), model.F(x).detach())
    with pytest.raises(ValueError):
        model.translate(x, to="z")


def test_weight_averages_follow_the_trained_weights():
    cfg = CycleGANConfig(**TINY, ema=0.9, n_epochs=1, n_epochs_decay=1, epoch_steps=3)
    g = torch.Generator().manual_seed(0)
    trainer = CycleGANTrainer(cfg, TensorPairs(*(torch.rand(4, 3, 16, 16, generator=g) * 2 - 1 for _ in "xy")))
    model = trainer.model
    assert model.G_avg is not model.G and not any(p.requires_grad for p in model.G_avg.parameters())
    start = [p.clone() for p in model.G.parameters()]
    expected = [p.clone() for p in start]
    for _ in range(3):  # avg <- 0.9 avg + 0.1 w after each iteration, from the initial weights
        trainer.step()
        expected = [0.9 * e + 0.1 * p for e, p in zip(expected, model.G.parameters())]
    for e, a in zip(expected, model.G_avg.parameters()):
        torch.testing.assert_close(a, e)
    x = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    assert torch.equal(model.translate(x, to="y"), model.G_avg(x))
    assert torch.equal(model.translate(x, to="x", averaged=False), model.F(x))
    assert make_cyclegan(CycleGANConfig(**TINY)).G_avg is None  # the paper's recipe keeps no averages
    with pytest.raises(ValueError, match="ema"):
        CycleGANConfig(ema=1.0)


def test_smoke_run_16x16_with_the_schedule():
    g = torch.Generator().manual_seed(0)
    data_x, data_y = torch.rand(6, 3, 16, 16, generator=g) * 2 - 1, torch.rand(5, 3, 16, 16, generator=g) * 2 - 1
    cfg = CycleGANConfig(**TINY, lr=1e-3, n_epochs=1, n_epochs_decay=2, epoch_steps=3, pool_size=4)
    model = train_cyclegan(cfg, data_x, data_y, seed=0, progress=False)
    h = model.history
    assert len(h["g_total"]) == 9 and all(math.isfinite(v) for k in h for v in h[k])
    # epoch 0 at the full rate, then 1 - 1/3 and 1 - 2/3 (the reference's linear rule)
    assert h["lr"] == pytest.approx([1e-3] * 3 + [2e-3 / 3] * 3 + [1e-3 / 3] * 3)
    again = train_cyclegan(cfg, data_x, data_y, seed=0, progress=False)
    assert torch.equal(model.translate(data_x), again.translate(data_x))  # seeded runs repeat
    with pytest.raises(ValueError, match="images"):
        train_cyclegan(cfg, data_x[:, :1], data_y, progress=False)


def test_fit_trains_the_model_in_place_and_callbacks_can_stop_it():
    g = torch.Generator().manual_seed(0)
    data = torch.rand(4, 3, 16, 16, generator=g) * 2 - 1
    cfg = CycleGANConfig(**TINY, n_epochs=2, n_epochs_decay=2, epoch_steps=5)
    trainer = CycleGANTrainer(cfg, TensorPairs(data, data.flip(-1)), seed=0)
    model = trainer.model
    before = [p.detach().clone() for p in model.G.parameters()]
    seen = []
    history = trainer.fit(progress=False,
                          callbacks=[lambda i, logs, h: seen.append(model.translate(data[:1])) or i == 2])
    assert len(history["g_total"]) == 3 and model.history is history  # stopped after the third iteration
    assert not torch.equal(before[0], next(model.G.parameters()))
    assert not torch.equal(seen[0], seen[-1])  # the callback sees the model as it trains


@pytest.mark.parametrize("k", [2, 3])  # 3: micro-batches of 2, 1 and 1 images, weighted by their share
def test_gradient_accumulation_gives_the_whole_batch_gradient(k):
    from dataclasses import replace

    g = torch.Generator().manual_seed(5)  # float64, so that only the order of additions differs
    x = (torch.rand(4, 3, 16, 16, generator=g, dtype=torch.float64) * 2 - 1)
    y = (torch.rand(4, 3, 16, 16, generator=g, dtype=torch.float64) * 2 - 1)
    runs = []
    for steps in (1, k):
        cfg = replace(CycleGANConfig(**TINY), batch_size=4, accum_steps=steps, pool_size=0)
        model = make_cyclegan(cfg, generator=torch.Generator().manual_seed(0))
        for net in (model.G, model.F, model.D_X, model.D_Y):
            net.double()
        opt_G, opt_D = make_optimizers(model)
        logs, fake_x, fake_y = generator_step(model, opt_G, x, y)
        logs.update(discriminator_step(model, opt_D, x, y, fake_x, fake_y, ImagePool(0), ImagePool(0)))
        grads = [p.grad.clone() for n in (model.G, model.F, model.D_X, model.D_Y) for p in n.parameters()]
        runs.append((logs, grads, fake_y))
    (logs1, grads1, fake1), (logs_k, grads_k, fake_k) = runs
    assert logs_k.keys() == logs1.keys()
    for key in logs1:
        assert logs_k[key] == pytest.approx(logs1[key], rel=1e-12), key
    assert torch.allclose(fake_k, fake1, atol=1e-12)
    for a, b in zip(grads1, grads_k):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_accumulation_steps_must_fit_the_batch():
    with pytest.raises(ValueError, match="accum_steps must be between 1 and batch_size"):
        CycleGANConfig(batch_size=2, accum_steps=3)
