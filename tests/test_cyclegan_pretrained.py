"""The authors' pretrained generators by name, against a local server that serves a reference-layout state_dict
the test builds itself: downloaded once into the cache, keys mapped, outputs exactly our generator's, and files
that are not such a generator refused with one line. The authors' server is never contacted."""
import functools
import http.server
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from minigan.cli import main
from minigan.cyclegan import (PRETRAINED, PRETRAINED_URL, ResnetGenerator, init_weights, load_reference_generator,
                              pretrained_generator, prepare_image)
from minigan.data.folders import load_rgb

from test_cyclegan_cli import cli


def reference_state_dict(net: ResnetGenerator, *, old_pytorch: bool = False) -> dict:
    """``net``'s weights as the reference repository names them (``conv_block``), optionally as PyTorch < 0.4 saved
    them (with running statistics for every instance norm, which the reference's own loader deletes)."""
    state = {k.replace(".block.", ".conv_block."): v.clone() for k, v in net.state_dict().items()}
    if old_pytorch:
        for i, m in enumerate(net.model):
            if isinstance(m, torch.nn.InstanceNorm2d):
                state[f"model.{i}.running_mean"] = torch.zeros(m.num_features)
                state[f"model.{i}.running_var"] = torch.ones(m.num_features)
    return state


class _Quiet(http.server.SimpleHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _Quiet.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("MINIGAN_PRETRAINED_URL", url)
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield site, url
    httpd.shutdown()


def test_names_and_address_are_the_references():
    assert PRETRAINED_URL.format(name="horse2zebra") == \
        "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth"
    assert {"horse2zebra", "zebra2horse", "style_monet", "style_vangogh", "summer2winter_yosemite",
            "iphone2dslr_flower"} <= set(PRETRAINED) and len(PRETRAINED) == 18
    with pytest.raises(ValueError, match="unknown pretrained CycleGAN 'horse2unicorn'; choose one of apple2orange"):
        pretrained_generator("horse2unicorn")


@pytest.mark.parametrize("old_pytorch", [False, True])
def test_a_reference_state_dict_loads_into_our_generator(tmp_path, old_pytorch):
    ours = init_weights(ResnetGenerator(ngf=8, n_blocks=2), generator=torch.Generator().manual_seed(0))
    torch.save(reference_state_dict(ours, old_pytorch=old_pytorch), tmp_path / "g.pth")
    loaded = load_reference_generator(tmp_path / "g.pth")
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    assert len(loaded.model) == len(ours.model) and not any(p.requires_grad for p in loaded.parameters())
    with torch.no_grad():
        assert torch.equal(loaded(x), ours(x))  # width (8) and depth (2 blocks) read from the file


def test_files_that_are_not_a_generator_are_refused_with_one_line(tmp_path):
    from minigan.cyclegan import PatchDiscriminator

    cases = {
        "text.pth": b"not a torch file",
        "discriminator.pth": PatchDiscriminator().state_dict(),
        "list.pth": [torch.zeros(3)],
        "short.pth": {k: v for k, v in list(reference_state_dict(ResnetGenerator(ngf=4, n_blocks=1)).items())[:-2]},
        "wrong_shape.pth": {**reference_state_dict(ResnetGenerator(ngf=4, n_blocks=1)),
                            "model.4.weight": torch.zeros(8, 4, 2, 2)},
    }
    messages = {"text.pth": "not a readable weights file", "discriminator.pth": "no 7x7 RGB input layer",
                "list.pth": "not a generator's state_dict", "short.pth": "2 layers missing",
                "wrong_shape.pth": "does not fit a CycleGAN ResnetGenerator"}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content) if isinstance(content, bytes) else torch.save(content, path)
        with pytest.raises(ValueError, match=messages[name]) as info:
            load_reference_generator(path)
        assert "\n" not in str(info.value)


def test_translate_pretrained_downloads_once_and_translates_as_the_generator_does(server, tmp_path):
    site, url = server
    g = init_weights(ResnetGenerator(ngf=4, n_blocks=2), generator=torch.Generator().manual_seed(0))
    torch.save(reference_state_dict(g, old_pytorch=True), site / "horse2zebra.pth")
    (site / "style_monet.pth").write_bytes(b"<html>not found, but served with a 200</html>")
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (40, 24), (120, 90, 60)).save(photos / "horse.png")
    for _ in range(2):  # the second run finds the file in the cache
        r = cli("cyclegan", "translate", "--pretrained", "horse2zebra", photos, "--out", tmp_path / "zebras",
                "--size", "32", "--no-progress", env={"MINIGAN_PRETRAINED_URL": url,
                                                      "MINIGAN_CACHE": str(tmp_path / "cache"),
                                                      "NO_PROXY": "127.0.0.1"})
        assert "translated 1 image(s) AtoB" in r.stdout
    assert _Quiet.requests == ["/horse2zebra.pth"] and (tmp_path / "cache" / "pretrained" / "horse2zebra.pth").is_file()
    with torch.no_grad():
        expected = (g(prepare_image(load_rgb(photos / "horse.png"), 32))[0].clamp(-1, 1) + 1) / 2
    written = torch.from_numpy(np.array(Image.open(tmp_path / "zebras" / "horse.png"))).permute(2, 0, 1) / 255
    assert (written - expected).abs().max() <= 0.5 / 255 + 1e-6  # only the PNG's rounding
    r = cli("cyclegan", "translate", "--pretrained", "style_monet", photos, "--no-progress", check=False,
            env={"MINIGAN_PRETRAINED_URL": url, "MINIGAN_CACHE": str(tmp_path / "cache"), "NO_PROXY": "127.0.0.1"})
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "not a readable weights file" in r.stderr
    assert "removed from the cache" in r.stderr and not (tmp_path / "cache" / "pretrained" / "style_monet.pth").exists()


@pytest.mark.parametrize("argv, message", [
    (["--pretrained", "horse2zebra", "ckpt.pt", "photos"], "with --pretrained give only the INPUT"),
    (["--pretrained", "horse2zebra", "photos", "--direction", "BtoA"], "its partner (zebra2horse"),
    (["ckpt.pt"], "translate needs a CHECKPOINT and an INPUT"),
])
def test_translate_usage_errors(argv, message, capsys):
    assert main(["cyclegan", "translate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
