"""Paired images from folders: side-by-side A|B files and two aligned folders (minigan.data.aligned)."""
from __future__ import annotations

import pytest
import torch
from PIL import Image

from minigan.data.aligned import load_aligned_folders, load_side_by_side, split_pair

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def solid(colour, size=(8, 8)):
    return Image.new("RGB", size, colour)


def side_by_side(left, right, h=8, w=8):
    image = Image.new("RGB", (2 * w, h))
    image.paste(solid(left, (w, h)), (0, 0))
    image.paste(solid(right, (w, h)), (w, 0))
    return image


def as_pm1(colour):
    return torch.tensor(colour, dtype=torch.float32)[:, None, None] / 127.5 - 1


def test_split_pair_takes_the_left_and_the_right_half():
    a, b = split_pair(side_by_side(RED, BLUE, h=4, w=6))
    assert a.size == b.size == (6, 4)
    assert a.getpixel((5, 3)) == RED and b.getpixel((0, 0)) == BLUE
    with pytest.raises(ValueError, match="at least 2 columns"):
        split_pair(solid(RED, (1, 4)))


def test_side_by_side_folder_gives_aligned_rows(tmp_path):
    for i, (left, right) in enumerate([(RED, BLUE), (GREEN, RED)]):
        side_by_side(left, right).save(tmp_path / f"{i}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="broken.jpg"):
        x, y = load_side_by_side(tmp_path, 16)
    assert x.shape == y.shape == (2, 3, 16, 16)
    assert torch.allclose(x[0], as_pm1(RED).expand(3, 16, 16), atol=1e-2)
    assert torch.allclose(y[0], as_pm1(BLUE).expand(3, 16, 16), atol=1e-2)
    assert torch.allclose(y[1], as_pm1(RED).expand(3, 16, 16), atol=1e-2)
    with pytest.warns(UserWarning):
        bx, by = load_side_by_side(tmp_path, 16, direction="BtoA")
    assert torch.equal(bx, y) and torch.equal(by, x)
    with pytest.raises(ValueError, match="direction"):
        load_side_by_side(tmp_path, 16, direction="AB")


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_side_by_side(tmp_path, 16)


def test_aligned_folders_pair_by_name_whatever_the_suffix(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "sub").mkdir(parents=True)
    (b / "sub").mkdir(parents=True)
    solid(RED).save(a / "1.png")
    solid(BLUE).save(b / "1.jpg", quality=100)
    solid(GREEN).save(a / "sub" / "2.png")
    solid(RED).save(b / "sub" / "2.png")
    x, y = load_aligned_folders(a, b, 8)
    assert x.shape == y.shape == (2, 3, 8, 8)
    assert torch.allclose(x[0], as_pm1(RED).expand(3, 8, 8), atol=1e-2)  # "1" sorts before "sub/2"
    assert torch.allclose(y[0], as_pm1(BLUE).expand(3, 8, 8), atol=3e-2)  # a JPEG's colours are near, not exact
    assert torch.allclose(y[1], as_pm1(RED).expand(3, 8, 8), atol=1e-2)


def test_aligned_folders_name_what_has_no_partner(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    solid(RED).save(a / "1.png")
    solid(RED).save(a / "lonely.png")
    solid(BLUE).save(b / "1.png")
    with pytest.raises(ValueError, match="lonely has no partner"):
        load_aligned_folders(a, b, 8)
    solid(RED).save(b / "lonely.png")
    solid(RED).save(b / "lonely.jpg")
    with pytest.raises(ValueError, match="same pair's side"):
        load_aligned_folders(a, b, 8)
