"""The digits autoencoder: shapes, clear errors, and that it learns to reconstruct quickly."""
import pytest
import torch
import torch.nn.functional as F

from minigan.data.digits import load_digits
from minigan.nn.autoencoder import AEConfig, ConvAutoencoder, train_autoencoder


def test_shapes():
    ae = ConvAutoencoder(code_dim=5, channels=4)
    x = torch.rand(3, 1, 8, 8)
    z = ae.encode(x)
    assert z.shape == (3, 5)
    y = ae.decode(z)
    assert y.shape == (3, 1, 8, 8)
    assert ((y >= 0) & (y <= 1)).all()
    assert ae(x).shape == (3, 1, 8, 8)


@pytest.mark.parametrize("shape", [(3, 64), (3, 8, 8), (3, 1, 16, 16), (3, 3, 8, 8)])
def test_encode_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        ConvAutoencoder().encode(torch.rand(*shape))


def test_decode_rejects_wrong_code_size():
    with pytest.raises(ValueError, match=r"\(B, 8\)"):
        ConvAutoencoder(code_dim=8).decode(torch.rand(3, 7))
    with pytest.raises(ValueError):
        ConvAutoencoder(code_dim=0)


def test_presets():
    assert AEConfig.from_preset("cpu") == AEConfig()
    assert AEConfig.from_preset("gpu").channels > AEConfig().channels


def test_trains_to_low_reconstruction_error():
    torch.manual_seed(0)
    d = load_digits()
    ae = ConvAutoencoder(code_dim=8, channels=8)
    with torch.no_grad():
        before = F.mse_loss(ae(d.X_test), d.X_test).item()
    hist = train_autoencoder(ae, d.X_train, steps=400, batch_size=64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        after = F.mse_loss(ae(d.X_test), d.X_test).item()
    # predicting every pixel's mean over the training set scores about 0.10
    baseline = F.mse_loss(d.X_train.mean(0, keepdim=True).expand_as(d.X_test), d.X_test).item()
    assert len(hist["mse"]) == 400
    assert after < 0.5 * baseline < before
    assert after < 0.04
