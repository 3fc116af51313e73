"""From-scratch batch norm and instance norm against torch (float64, 1e-5), and the properties chapter 2 shows."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from minigan.nn.norm import batch_norm, instance_norm

from torch_check import TOL, check_forward_and_grads, leaves, max_diff


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 5, 7), (3, 2, 3, 4, 2)])
def test_batch_norm_matches_f_batch_norm_in_training_mode(shape):
    x, w, b = leaves(shape, (shape[1],), (shape[1],))
    x = (3 * x + 1).detach().requires_grad_(True)  # away from mean 0, std 1
    check_forward_and_grads(lambda x, w, b: batch_norm(x, w, b),
           lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    check_forward_and_grads(lambda x: batch_norm(x, eps=1e-3), lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3), (x,))


def test_batch_norm_updates_running_statistics_like_torch():
    (x,) = leaves((8, 3, 4, 4))
    x = x.detach() * 2 + 5
    ours_m, ours_v = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    ref = nn.BatchNorm2d(3, momentum=0.2).double()
    for _ in range(3):
        batch_norm(x, running_mean=ours_m, running_var=ours_v, momentum=0.2)
        ref(x)
    assert max_diff(ours_m, ref.running_mean) < TOL and max_diff(ours_v, ref.running_var) < TOL


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (1, 2, 9), (2, 3, 3, 4, 2)])
def test_instance_norm_matches_f_instance_norm(shape):
    x, w, b = leaves(shape, (shape[1],), (shape[1],))
    check_forward_and_grads(lambda x, w, b: instance_norm(x, w, b), lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    check_forward_and_grads(lambda x: instance_norm(x), lambda x: nn.InstanceNorm2d(shape[1])(x) if len(shape) == 4
           else F.instance_norm(x), (x,))


def test_batch_mates_change_batch_norm_but_not_instance_norm():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 3, 8, 8, generator=g, dtype=torch.float64)
    mates_a = torch.rand(3, 3, 8, 8, generator=g, dtype=torch.float64)
    mates_b = 0.2 * torch.rand(3, 3, 8, 8, generator=g, dtype=torch.float64)  # darker, flatter batch-mates
    bn_a, bn_b = batch_norm(torch.cat([img, mates_a]))[0], batch_norm(torch.cat([img, mates_b]))[0]
    in_a, in_b = instance_norm(torch.cat([img, mates_a]))[0], instance_norm(torch.cat([img, mates_b]))[0]
    assert max_diff(bn_a, bn_b) > 0.1
    assert max_diff(in_a, in_b) == 0
    # instance norm removes each image's brightness and contrast; with one image it is batch norm
    assert max_diff(instance_norm(0.5 * img + 0.2), instance_norm(img)) < 5e-3  # only eps differs
    assert max_diff(batch_norm(img), instance_norm(img)) < 1e-12


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="spatial"):
        batch_norm(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="spatial"):
        instance_norm(torch.zeros(4, 3))
