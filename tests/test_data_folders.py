"""CycleGAN folder data sets: the reference layout, sampling and preprocessing, robust to odd and broken files."""
import warnings

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms as T

from minigan.data.folders import (
    IMG_EXTENSIONS,
    UnpairedImageFolder,
    cyclegan_transform,
    list_images,
    load_folder_tensors,
    load_rgb,
    make_scenes_folder,
    save_images,
)
from minigan.data.scenes import scene_pairs, unpaired_scenes

STEP = 1 / 255 + 1e-6  # the most a value in [-1, 1] moves when stored in 8 bits (half a step of 2/255)


def noise(w, h, seed, mode="RGB"):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Image.fromarray(arr).convert(mode)


def write_rgb_folder(folder, n, seed=0, size=(16, 16)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        noise(*size, seed=seed + i).save(folder / f"{i:02d}.png")


def capture(fn):
    """Run fn, returning (result, the list of warnings it raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in caught if issubclass(w.category, UserWarning)]


def test_mixed_image_modes_load_as_rgb_in_range(tmp_path):
    a = tmp_path / "trainA"
    (a / "sub").mkdir(parents=True)
    Image.new("L", (24, 20), 128).save(a / "grey.png")  # mid-grey
    Image.new("LA", (20, 24), (30, 200)).save(a / "la.png")
    pal = Image.new("P", (22, 22), 1)
    pal.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    pal.save(a / "palette.png", transparency=0)
    noise(26, 20, 1, "RGBA").save(a / "rgba.png")
    noise(20, 20, 2, "CMYK").save(a / "cmyk.jpg")
    noise(21, 23, 3).save(a / "photo.jpeg")
    noise(20, 20, 4).save(a / "upper.JPG")
    noise(20, 20, 5).convert("1").save(a / "bits.bmp")
    Image.fromarray(np.full((20, 20), 30000, np.uint16)).save(a / "deep.png")  # I;16
    Image.fromarray(np.full((20, 20), 30000, np.uint16)).save(a / "sub" / "deep.tif")  # nested, I;16 TIFF
    (a / "notes.txt").write_text("not an image")
    (a / ".DS_Store").write_bytes(b"\x00\x01junk")
    (a / "README").write_text("no extension")
    write_rgb_folder(tmp_path / "trainB", 3)

    assert Image.open(a / "deep.png").mode == "I;16"
    ds = UnpairedImageFolder(tmp_path, load_size=20, crop_size=16)
    names = sorted(p.relative_to(a).as_posix() for p in ds.paths_a)
    assert names == sorted(["grey.png", "la.png", "palette.png", "rgba.png", "cmyk.jpg", "photo.jpeg", "upper.JPG",
                            "bits.bmp", "deep.png", "sub/deep.tif"])
    assert ds.skipped == [] and len(ds) == 10
    for i in range(len(ds)):
        for x in ds[i]:
            assert x.shape == (3, 16, 16) and x.dtype == torch.float32
            assert x.min() >= -1 and x.max() <= 1
    grey = ds[ds.paths_a.index(a / "grey.png")][0]
    assert grey.abs().max() < 0.01  # 128/255 -> about 0, in all three channels
    deep = 30000 / 65535 * 2 - 1  # about -0.08, not the +1 of a clipped conversion
    for name in ("deep.png", "sub/deep.tif"):
        x = ds[ds.paths_a.index(a / name)][0]
        assert (x - deep).abs().max() < 0.01

    # transparency is composited over white
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(clear)
    assert load_rgb(clear).getpixel((0, 0)) == (255, 255, 255)
    assert load_rgb(a / "palette.png").getpixel((0, 0)) == (200, 30, 30)  # index 1: opaque
    pal_clear = Image.new("P", (4, 4), 0)
    pal_clear.putpalette([0, 0, 0] * 256)
    pal_clear.save(tmp_path / "pclear.png", transparency=0)
    assert load_rgb(tmp_path / "pclear.png").getpixel((0, 0)) == (255, 255, 255)
    assert ".png" in IMG_EXTENSIONS and ".JPG" in IMG_EXTENSIONS


def test_undecodable_files_are_skipped_with_one_warning(tmp_path):
    write_rgb_folder(tmp_path / "trainA", 4)
    write_rgb_folder(tmp_path / "trainB", 3, seed=10)
    (tmp_path / "trainA" / "garbage.jpg").write_bytes(np.random.default_rng(0).bytes(500))
    full = tmp_path / "full.png"
    noise(64, 64, 7).save(full)
    (tmp_path / "trainB" / "truncated.png").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    (tmp_path / "trainB" / "empty.PNG").write_bytes(b"")

    ds, caught = capture(lambda: UnpairedImageFolder(tmp_path, load_size=16, crop_size=16))
    assert len(caught) == 1
    message = str(caught[0].message)
    for name in ("trainA/garbage.jpg", "trainB/truncated.png", "trainB/empty.PNG"):
        assert name in message
    assert sorted(p.name for p in ds.skipped) == ["empty.PNG", "garbage.jpg", "truncated.png"]
    assert len(ds.paths_a) == 4 and len(ds.paths_b) == 3 and len(ds) == 4
    assert all(x.shape == (3, 16, 16) for i in range(len(ds)) for x in ds[i])

    # many broken files: ten named, the rest counted
    for i in range(12):
        (tmp_path / "trainA" / f"bad{i:02d}.png").write_bytes(b"nope")
    ds, caught = capture(lambda: UnpairedImageFolder(tmp_path, load_size=16, crop_size=16))
    assert len(caught) == 1 and len(ds.skipped) == 15
    assert "and 5 more" in str(caught[0].message)

    # a folder of nothing but broken files is an error, naming it
    for p in (tmp_path / "trainA").glob("*.png"):
        p.unlink()
    with pytest.raises(FileNotFoundError, match="no readable images in .*trainA"):
        capture(lambda: UnpairedImageFolder(tmp_path, load_size=16, crop_size=16))


def test_missing_folders_give_one_clear_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as err:
        UnpairedImageFolder(missing)
    assert str(missing) in str(err.value) and "trainA" in str(err.value) and "testB" in str(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None

    write_rgb_folder(tmp_path / "trainA", 2)
    with pytest.raises(FileNotFoundError) as err:
        UnpairedImageFolder(tmp_path)
    assert str(tmp_path / "trainB") in str(err.value) and "does not exist" in str(err.value)
    with pytest.raises(FileNotFoundError, match="testA"):
        UnpairedImageFolder(tmp_path, "test")

    (tmp_path / "trainB").mkdir()
    (tmp_path / "trainB" / "notes.txt").write_text("no images here")
    with pytest.raises(FileNotFoundError) as err:
        UnpairedImageFolder(tmp_path)
    assert f"no images in {tmp_path / 'trainB'}" in str(err.value)
    assert ".png" in str(err.value) and ".jpg" in str(err.value) and ".tiff" in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_images(missing)


def test_sampling_follows_the_reference_and_is_reproducible(tmp_path):
    write_rgb_folder(tmp_path / "trainA", 3, seed=0)
    write_rgb_folder(tmp_path / "trainB", 5, seed=100)
    test_tf = cyclegan_transform(16, 16, train=False)
    exact = UnpairedImageFolder(tmp_path, load_size=16, crop_size=16, flip=False)  # no crop, no flip
    assert len(exact) == 5
    for i in range(len(exact)):
        a, b = exact[i]
        ia, ib = exact.indices(i)
        assert ia == i % 3
        assert torch.equal(a, test_tf(load_rgb(exact.paths_a[i % 3])))
        assert torch.equal(b, test_tf(load_rgb(exact.paths_b[ib])))

    ds = UnpairedImageFolder(tmp_path, load_size=20, crop_size=16, seed=7)  # random crops and flips
    again = UnpairedImageFolder(tmp_path, load_size=20, crop_size=16, seed=7)
    picks = {}
    for epoch in range(4):
        ds.set_epoch(epoch)
        again.set_epoch(epoch)
        picks[epoch] = [ds.indices(i)[1] for i in range(len(ds))]
        assert picks[epoch] == [again.indices(i)[1] for i in range(len(ds))]
    assert any(picks[0][i] != picks[e][i] for e in (1, 2, 3) for i in range(5))  # epochs differ
    assert len({j for p in picks.values() for j in p}) >= 3  # covers several files
    assert [ds.indices(i)[1] for i in range(5)] == picks[3]  # set_epoch(3) stays in force

    ds.set_epoch(2)
    fresh = UnpairedImageFolder(tmp_path, load_size=20, crop_size=16, seed=7)
    fresh.set_epoch(2)  # a resumed run: same items, whatever happened before
    state = torch.get_rng_state()
    torch.manual_seed(1)
    first = [ds[i] for i in range(5)]
    torch.manual_seed(2)
    second = [fresh[i] for i in reversed(range(5))][::-1]
    for (a1, b1), (a2, b2) in zip(first, second):
        assert torch.equal(a1, a2) and torch.equal(b1, b2)
    torch.set_rng_state(state)
    ds[3]
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is untouched
    assert any(not torch.equal(ds[i][0], exact[i][0]) for i in range(5))  # crops and flips do happen

    batches = {}
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=2, shuffle=False, num_workers=workers)
        batches[workers] = [torch.cat(batch) for batch in loader]
    assert all(torch.equal(x, y) for x, y in zip(batches[0], batches[2])) and len(batches[0]) == 3
    with pytest.raises(IndexError):
        ds[5]


def test_transform_is_the_reference_pipeline():
    img = noise(30, 24, 3)
    norm = [T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
    ref = T.Compose([T.Resize([28, 28], T.InterpolationMode.BICUBIC), T.RandomCrop(20), T.RandomHorizontalFlip(),
                     *norm])
    ref_noflip = T.Compose([T.Resize([28, 28], T.InterpolationMode.BICUBIC), T.RandomCrop(20), *norm])
    ours, ours_noflip = cyclegan_transform(28, 20), cyclegan_transform(28, 20, flip=False)
    outs = []
    for seed in range(8):
        for mine, theirs in ((ours, ref), (ours_noflip, ref_noflip)):
            torch.manual_seed(seed)
            x = mine(img)
            torch.manual_seed(seed)
            assert torch.equal(x, theirs(img))
            assert x.shape == (3, 20, 20) and x.min() >= -1 and x.max() <= 1
        outs.append(x)
    assert len({tuple(x.flatten()[:50].tolist()) for x in outs}) > 1  # the crop is random
    test_ref = T.Compose([T.Resize([20, 20], T.InterpolationMode.BICUBIC), *norm])
    assert torch.equal(cyclegan_transform(28, 20, train=False)(img), test_ref(img))
    with pytest.raises(ValueError, match="crop_size"):
        cyclegan_transform(16, 32)


def test_scenes_folder_round_trip(tmp_path):
    root = make_scenes_folder(tmp_path / "scenes", n_train=8, n_test=4, size=16, seed=0)
    counts = {name: len(list_images(root / name)) for name in ("trainA", "trainB", "testA", "testB")}
    assert counts == {"trainA": 8, "trainB": 8, "testA": 4, "testB": 4}
    assert (root / "testA" / "0003.png").is_file()

    truth, train = scene_pairs(4, 16, seed=1), unpaired_scenes(8, 16, seed=0)
    x = cyclegan_transform(16, 16, train=False)(load_rgb(root / "testA" / "0003.png"))
    assert (x - truth.A[3]).abs().max() <= STEP
    test_a, test_b = load_folder_tensors(root / "testA", 16), load_folder_tensors(root / "testB", 16)
    assert test_a.shape == (4, 3, 16, 16)
    assert (test_a - truth.A).abs().max() <= STEP and (test_b - truth.B).abs().max() <= STEP
    assert (load_folder_tensors(root / "trainB", 16) - train.B).abs().max() <= STEP

    pairs = UnpairedImageFolder(root, "test", load_size=16, crop_size=16)  # test phase: B in order
    assert len(pairs) == 4
    for i in range(4):
        a, b = pairs[i]
        assert torch.equal(a, test_a[i]) and torch.equal(b, test_b[i])
    ds = UnpairedImageFolder(root, load_size=18, crop_size=16)
    assert len(ds) == 8 and ds[0][0].shape == (3, 16, 16)

    # any tensor in [-1, 1] survives 8-bit PNG within half a step
    images = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    save_images(images, tmp_path / "random")
    assert (load_folder_tensors(tmp_path / "random", 8) - images).abs().max() <= STEP
    make_scenes_folder(tmp_path / "scenes", n_train=8, n_test=4, size=16, seed=0)  # rewriting is fine
    with pytest.raises(FileExistsError):
        make_scenes_folder(tmp_path / "scenes", n_train=4, n_test=4, size=16)  # would leave stale files
