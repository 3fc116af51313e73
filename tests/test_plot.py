import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from minigan import History  # noqa: E402
from minigan.nn import MLP  # noqa: E402
from minigan.plot import (LivePlot, image_grid, plot_decision_boundary, plot_history, show_image_rows,  # noqa: E402
                          show_images, smooth)


@pytest.mark.parametrize("b, nrow", [(2, 8), (6, 3), (7, 3), (16, 8)])
@pytest.mark.parametrize("c", [1, 3])
def test_image_grid_equals_torchvision_make_grid(b, nrow, c):
    images = torch.rand(b, c, 5, 4) * 2 - 1  # GAN range
    ours = image_grid(images, nrow=nrow, padding=2)
    ref = make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=(-1, 1), pad_value=1.0)
    if c == 1:
        ref = ref[:1]  # make_grid repeats a single channel three times
    assert ours.shape == ref.shape
    assert torch.allclose(ours, ref, atol=1e-6)


def test_a_single_image_is_framed_too():
    # torchvision returns a lone image unpadded; a grid of one keeps its frame here.
    grid = image_grid(torch.zeros(1, 1, 3, 3), padding=1)
    assert grid.shape == (1, 5, 5) and grid[0, 0, 0] == 1 and grid[0, 2, 2] == 0.5


def test_image_grid_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        image_grid(torch.zeros(2, 2))


def test_show_images_and_plot_history_return_small_figures():
    fig = show_images(torch.rand(4, 3, 8, 8), nrow=2, title="x", value_range=(0, 1))
    assert fig.dpi == 100 and len(fig.axes) == 1
    h = History()
    for i in range(30):
        h.append(i, {"loss_D": 1 / (i + 1), "loss_G": 0.5})
    fig2 = plot_history(h, window=5, logy=True)
    ax = fig2.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loss_D", "loss_G"]
    assert ax.get_yscale() == "log"
    plt.close("all")


def test_show_image_rows_labels_each_row():
    rows = {"input": torch.rand(3, 3, 8, 8) * 2 - 1, "output": torch.rand(3, 3, 8, 8) * 2 - 1,
            "gray": torch.rand(3, 1, 8, 8) * 2 - 1}
    fig = show_image_rows(rows)
    assert [ax.get_ylabel() for ax in fig.axes] == ["input", "output", "gray"]
    shown = fig.axes[0].get_images()[0].get_array()
    assert np.allclose(shown, image_grid(rows["input"], nrow=3).permute(1, 2, 0).numpy())  # the grid, unchanged
    with pytest.raises(ValueError):
        show_image_rows({})
    plt.close("all")


def test_smooth_is_a_trailing_mean():
    assert np.allclose(smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    assert np.allclose(smooth([1, 2], 1), [1, 2])


def test_decision_boundary_colours_the_predicted_class():
    class Half(torch.nn.Module):  # class 1 right of x=0
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor([[-1.0, 0.0], [1.0, 0.0]]))

        def forward(self, x):
            return x @ self.w.T

    X = torch.tensor([[-1.0, 0.0], [1.0, 0.5], [0.5, -1.0]])
    y = torch.tensor([0, 1, 1])
    fig = plot_decision_boundary(Half(), X, y, resolution=50)
    ax = fig.axes[0]
    assert len(ax.collections) >= 2  # filled contours + the scatter
    plot_decision_boundary(lambda x: x[:, 0], X, y, ax=ax)  # a binary score function works too
    assert MLP(2, 2).training  # untouched
    plt.close("all")


def test_live_plot_is_silent_outside_a_kernel():
    live = LivePlot(every=1)
    h = History()
    h.append(0, {"loss": 1.0})
    live.on_step(0, {"loss": 1.0}, h)
    live.on_end(h)
    assert live._handle is None
