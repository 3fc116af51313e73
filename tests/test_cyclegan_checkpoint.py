"""Checkpoints and resuming: a run saved and continued is the run that never stopped; mixed precision;
atomic writes; a checkpoint of another architecture is refused with the setting named."""
import pytest
import torch

from minigan import batches
from minigan.cyclegan import (CycleGANConfig, CycleGANTrainer, TensorPairs, check_same_networks, load_checkpoint,
                              make_cyclegan, model_from_checkpoint, resolve_precision, save_checkpoint)
from minigan.cyclegan import checkpoint as ckpt_module
from minigan.data.scenes import unpaired_scenes

TINY = dict(image_size=16, ngf=4, n_blocks=1, ndf=4, n_layers_d=2, batch_size=3, n_epochs=1, n_epochs_decay=2,
            epoch_steps=4, pool_size=5)
DATA = unpaired_scenes(10, 16, seed=0)  # 10 images: epochs of the data (4 batches of 3) and of the schedule differ


def trainer(seed=3, **cfg):
    return CycleGANTrainer(CycleGANConfig(**{**TINY, **cfg}), TensorPairs(DATA.A, DATA.B), seed=seed)


def resumed_equals_uninterrupted(tmp_path, split, **cfg):
    straight = trainer(**cfg)
    straight.fit(progress=False)
    first = trainer(**cfg)
    first.fit(progress=False, steps=split)
    save_checkpoint(first.state_dict(), tmp_path / "ck.pt")
    second = trainer(seed=99, **cfg)  # other initial weights and generator: all of it must come from the file
    second.load_state_dict(load_checkpoint(tmp_path / "ck.pt"))
    second.fit(progress=False)
    assert second.iteration == straight.iteration == 12
    assert second.history.steps == straight.history.steps == list(range(12))
    assert dict(second.history) == dict(straight.history)  # every loss and learning rate, exactly
    for name, net in straight.model.nets().items():  # G_avg and F_avg too when the run keeps averages
        for a, b in zip(net.parameters(), second.model.nets()[name].parameters()):
            assert torch.equal(a, b), name


@pytest.mark.parametrize("split", [1, 5, 8])  # mid data-epoch, mid schedule-epoch, at an epoch boundary
def test_resumed_run_equals_uninterrupted_run(tmp_path, split):
    resumed_equals_uninterrupted(tmp_path, split)


def test_weight_averages_are_saved_and_resumed(tmp_path):
    resumed_equals_uninterrupted(tmp_path, 5, ema=0.9)
    t = trainer(ema=0.9)
    t.fit(progress=False)
    save_checkpoint(t.state_dict(), tmp_path / "avg.pt")
    model = model_from_checkpoint(tmp_path / "avg.pt")
    x = DATA.A[:2]
    assert torch.equal(model.translate(x), t.model.translate(x))  # the averages, not the last weights
    assert not torch.equal(model.translate(x), model.translate(x, averaged=False))
    with pytest.raises(ValueError, match=r"ema=0.9 in the checkpoint but 0.0 here"):
        trainer().load_state_dict(t.state_dict())


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_trains_and_resumes_on_cpu(tmp_path, amp):
    t = trainer(amp=amp)
    assert t.precision_G.dtype == {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    assert (t.precision_G.scaler is not None) == (amp == "fp16")  # a grad scaler for float16 only
    resumed_equals_uninterrupted(tmp_path, 5, amp=amp)
    ref = trainer()
    ref.fit(progress=False)
    t.fit(progress=False)
    # the same run in 16 bits: close to float32's losses, not equal
    assert t.history["g_total"][0] == pytest.approx(ref.history["g_total"][0], rel=0.05)
    assert t.history["g_total"][0] != ref.history["g_total"][0]


def test_channels_last_computes_the_same_losses():
    a, b = trainer(), trainer(channels_last=True)
    assert b.model.G.model[1].weight.is_contiguous(memory_format=torch.channels_last)
    la, lb = a.step(), b.step()
    assert lb["g_total"] == pytest.approx(la["g_total"], rel=1e-4)


def test_precision_choices():
    assert resolve_precision("off", "cpu").dtype is None
    assert resolve_precision("auto", "cpu").dtype is None  # autocast is for GPUs: float32 on a CPU
    with pytest.raises(ValueError, match="amp must be one of"):
        resolve_precision("fp8", "cpu")
    with pytest.raises(ValueError, match="amp must be"):
        CycleGANConfig(amp="half")
    assert CycleGANConfig.from_preset("gpu").amp == "auto" and CycleGANConfig.from_preset("gpu").channels_last
    assert CycleGANConfig.from_preset("cpu").amp == "off"


def test_batches_state_round_trip():
    x = torch.arange(10)
    a = batches(x, batch_size=4, generator=torch.Generator().manual_seed(0))
    for _ in range(4):
        next(a)
    state, gen_state = a.state_dict(), a.generator.get_state()
    rest = [next(a)[0].tolist() for _ in range(5)]
    b = batches(x, batch_size=4, generator=torch.Generator().manual_seed(7))
    b.load_state_dict(state)
    b.generator.set_state(gen_state)
    assert [next(b)[0].tolist() for _ in range(5)] == rest


def test_checkpoint_loads_weights_only_and_rebuilds_the_model(tmp_path):
    t = trainer()
    t.fit(progress=False, steps=3)
    path = save_checkpoint(t.state_dict(), tmp_path / "run" / "checkpoint.pt")
    state = torch.load(path, weights_only=True)  # plain tensors and containers only
    assert state["iteration"] == 3 and state["config"]["ngf"] == 4
    model = model_from_checkpoint(path)
    x = DATA.A[:2]
    assert torch.equal(model.translate(x), t.model.translate(x))
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["checkpoint.pt"]  # no temporary file left


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint({"config": {"v": 1}, "nets": {}}, path)
    before = path.read_bytes()

    def dies_halfway(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_module.torch, "save", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"config": {"v": 2}, "nets": {}}, path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_unreadable_checkpoints_give_one_clear_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="is not a readable minigan checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a minigan CycleGAN checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_a_checkpoint_of_another_architecture_names_the_setting(tmp_path):
    t = trainer()
    saved = t.state_dict()
    with pytest.raises(ValueError, match=r"ngf=4 in the checkpoint but 8 here") as e:
        trainer(ngf=8).load_state_dict(saved)
    assert "ndf" not in str(e.value)  # only what differs
    with pytest.raises(ValueError, match=r"n_blocks=1 in the checkpoint but 2 here; n_layers_d=2 in the checkpoint"):
        check_same_networks(saved["config"], CycleGANConfig(**{**TINY, "n_blocks": 2, "n_layers_d": 3}))
    trainer(lr=1e-3).load_state_dict(saved)  # training settings may change on resume
