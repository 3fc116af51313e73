"""The real data that ships inside installed packages: digits, a photo."""
import pytest
import torch

from minigan.data import load_digits, load_photo


def test_digits_split_is_stratified_disjoint_and_repeatable():
    d = load_digits(test_fraction=0.25, seed=0)
    assert d.X_train.shape[1:] == (1, 8, 8) and d.X_train.dtype == torch.float32
    assert len(d.X_train) + len(d.X_test) == 1797
    assert set(d.y_test.tolist()) == set(range(10))
    ratio = d.y_test.bincount().float() / (d.y_test.bincount() + d.y_train.bincount()).float()
    assert ((ratio - 0.25).abs() < 0.01).all()
    assert 0.0 == d.X_train.min() and d.X_train.max() == 1.0
    # the split is by index: no image appears in both halves
    train_rows = {tuple(r) for r in d.X_train.reshape(len(d.X_train), -1).tolist()}
    assert not any(tuple(r) in train_rows for r in d.X_test.reshape(len(d.X_test), -1).tolist())
    again = load_digits(test_fraction=0.25, seed=0)
    assert torch.equal(again.X_train, d.X_train) and torch.equal(again.y_test, d.y_test)


def test_digits_follow_the_default_dtype_or_the_one_asked_for():
    d32 = load_digits()
    assert load_digits(dtype=torch.float64).X_train.dtype == torch.float64
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # what the float64 chapters do
    try:
        d64 = load_digits(value_range=(-1, 1))
    finally:
        torch.set_default_dtype(before)
    assert d64.X_train.dtype == torch.float64
    # pixel values are k/16: exact in both precisions, so the two loads agree bit for bit
    assert torch.equal(d64.X_train, (2 * d32.X_train - 1).double())


def test_digits_flatten_and_gan_range():
    d = load_digits(flatten=True, value_range=(-1, 1))
    assert d.X_train.shape[1] == 64
    assert d.X_train.min() == -1 and d.X_train.max() == 1
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=1.5)


def test_photo_shapes_ranges_and_resizing():
    rgb = load_photo()
    assert rgb.shape == (3, 600, 512) and rgb.dtype == torch.float32
    assert 0 <= rgb.min() and rgb.max() <= 1 and rgb.std() > 0.1
    assert load_photo(gray=True).shape == (1, 600, 512)
    assert load_photo(size=64).shape == (3, 75, 64)
    assert load_photo(size=(32, 48)).shape == (3, 32, 48)
    with pytest.raises(ValueError, match="unknown photo"):
        load_photo("mona_lisa")
