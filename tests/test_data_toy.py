import pytest
import torch

from minigan.data import TOY_SETS, make_toy


@pytest.mark.parametrize("name", sorted(TOY_SETS))
def test_toy_sets_are_balanced_seeded_and_typed(name):
    X, y = make_toy(name, 301, seed=3)
    assert X.shape == (301, 2) and X.dtype == torch.float32
    assert y.shape == (301,) and y.dtype == torch.long
    counts = torch.bincount(y)
    assert counts.max() - counts.min() <= 1
    X2, y2 = make_toy(name, 301, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    X3, _ = make_toy(name, 301, seed=4)
    assert not torch.equal(X, X3)
    assert torch.isfinite(X).all()


def test_spirals_support_more_classes():
    _, y = make_toy("spirals", 90, classes=3)
    assert torch.bincount(y).tolist() == [30, 30, 30]


def test_noiseless_moons_lie_on_their_arcs():
    X, y = make_toy("moons", 200, noise=0.0)
    upper = X[y == 0]
    lower = X[y == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper)), atol=1e-5)
    assert torch.allclose((lower - torch.tensor([1.0, 0.5])).norm(dim=1), torch.ones(len(lower)), atol=1e-5)


def test_unknown_names_and_too_few_points_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown toy data set 'moon'"):
        make_toy("moon")
    with pytest.raises(ValueError, match="at least one point per class"):
        make_toy("xor", 1)
