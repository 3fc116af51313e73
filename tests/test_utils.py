import random

import numpy as np
import pytest
import torch

from minigan import count_parameters, get_device, is_accelerator, seed_everything
from minigan.config import Presets, auto_preset
from minigan.nn import MLP, MLPConfig


def test_seed_everything_makes_every_rng_repeat():
    g1 = seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=g1))
    g2 = seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=g2))
    assert a[0] == b[0] and a[1] == b[1]
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])
    seed_everything(124)
    assert not torch.equal(torch.rand(3), b[2])


def test_get_device_auto_is_cpu_here_and_explicit_devices_pass_through():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device("auto").type == expected
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    assert is_accelerator("cpu") is False


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_get_device_names_the_problem_when_cuda_is_missing():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        get_device("cuda")


def test_count_parameters_matches_a_hand_count():
    model = MLP(2, 3, hidden=[4, 5])
    assert count_parameters(model) == (2 * 4 + 4) + (4 * 5 + 5) + (5 * 3 + 3)
    model[0].weight.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == count_parameters(model) - 8


def test_presets_auto_picks_by_device_and_overrides_apply():
    assert auto_preset("cpu") == "cpu"
    assert MLPConfig.from_preset("auto", device="cpu") == MLPConfig()
    gpu = MLPConfig.from_preset("gpu")
    assert gpu.hidden > MLPConfig().hidden and gpu.steps > MLPConfig().steps
    assert MLPConfig.from_preset("cpu", steps=7).steps == 7
    with pytest.raises(ValueError, match="no preset 'paper'"):
        MLPConfig.from_preset("paper")
    with pytest.raises(TypeError, match="no field"):
        MLPConfig.from_preset("cpu", stepz=3)


def test_a_config_without_a_gpu_preset_falls_back_to_cpu(monkeypatch):
    from dataclasses import dataclass

    @dataclass
    class Tiny(Presets):
        n: int = 1

    monkeypatch.setattr("minigan.config.is_accelerator", lambda device: True)
    assert Tiny.from_preset("auto") == Tiny()
