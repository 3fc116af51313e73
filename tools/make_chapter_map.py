#!/usr/bin/env python3
"""Draw the book's chapter map: book/images/chapter_map.svg.

    python tools/make_chapter_map.py

Boxes are chapters, arrows say which chapter builds on which. The SVG is
reproducible byte for byte (fixed hash salt, no date) and keeps its text as
text, so re-running this script changes the file only when the map changes.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "book" / "images" / "chapter_map.svg"

# Light fills and dark text: legible on a white background in any page theme.
PART_I = {"fill": "#dbeafe", "edge": "#1e40af", "band": "#f1f5fb"}
PART_II = {"fill": "#fde9c8", "edge": "#9a3412", "band": "#fdf7ef"}
TEXT = "#111827"
MUTED = "#374151"
BOX_H = 0.6        # height of a box with a one-line subtitle, in inches
LINE_H = 0.15      # extra height per further subtitle line

# name: (x centre, y centre, width, title, subtitle, colours); coordinates in inches.
CHAPTERS = {
    # Part I: the MLP, then weights shared across space (CNN) and time (RNN).
    "mlp": (1.07, 3.82, 1.8, "1  MLP", "weighted sums + non-linearity", PART_I),
    "rnn": (3.9, 4.38, 1.8, "3  RNN / LSTM", "an LSTM is an RNN with gates", PART_I),
    "cnn": (3.9, 3.26, 1.8, "2  CNN", "convolutional layers", PART_I),
    "att": (7.3, 4.38, 2.3, "4  Attention & Transformer", "self-attention, no recurrence", PART_I),
    # Part II: row a is the path to CycleGAN, row b what follows it.
    "game": (1.07, 1.95, 1.9, "5  The adversarial game", "autoencoder, then G vs D", PART_II),
    "loss": (3.36, 1.95, 1.9, "6  GAN losses", "objectives compared", PART_II),
    "dcgan": (5.64, 1.95, 1.9, "7  DCGAN", "convolutional G and D", PART_II),
    "cycle": (7.93, 1.95, 1.9, "8  CycleGAN",
              "2 generators, 2 discriminators\nResNet G, PatchGAN D", PART_II),
    "outlook": (1.07, 0.55, 1.9, "11  Outlook", "where to go next", PART_II),
    "photos": (5.64, 0.55, 1.9, "9  Real photos", "CycleGAN on unpaired photos", PART_II),
    "fast": (7.93, 0.55, 1.9, "10  Efficiency", "making it fast and big", PART_II),
}

# (from, to, label, label centre or None for the middle of the arrow)
EDGES = [
    ("mlp", "rnn", "share weights\nin time", (2.45, 4.45)),
    ("mlp", "cnn", "share weights\nin space", (2.45, 3.2)),
    ("rnn", "att", "+ attention,\nthen drop recurrence", (5.47, 4.05)),
    ("mlp", "game", "+ adversary", None),
    ("game", "loss", "", None),
    ("loss", "dcgan", "", None),
    ("cnn", "dcgan", "+ conv", None),
    ("dcgan", "cycle", "+ cycle loss", (6.79, 2.42)),
    ("cycle", "photos", "", None),
    ("cycle", "fast", "", None),
]
PARTS = [  # (bottom, top, label, label x, colours) of the background band of each part
    (2.78, 4.95, "Part I: neural networks from scratch", 0.16, PART_I),
    (0.05, 2.68, "Part II: GANs, up to CycleGAN", 2.3, PART_II),  # clear of the MLP -> 5 arrow
]


def rounded_box(x0, y0, w, h, **style) -> FancyBboxPatch:
    return FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0,rounding_size=0.08", **style)


def draw() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(9, 5))
    fig.subplots_adjust(0, 0, 1, 1)
    ax.set_xlim(0, 9)
    ax.set_ylim(0, 5)
    ax.set_axis_off()

    for y0, y1, label, label_x, colours in PARTS:
        ax.add_patch(rounded_box(0.06, y0, 8.88, y1 - y0, fc=colours["band"], ec="none", zorder=0))
        ax.text(label_x, y1 - 0.08, label, ha="left", va="top", fontsize=9, style="italic",
                color=colours["edge"], zorder=1)

    boxes = {}
    for name, (x, y, w, title, subtitle, colours) in CHAPTERS.items():
        h = BOX_H + LINE_H * subtitle.count("\n")
        boxes[name] = ax.add_patch(rounded_box(x - w / 2, y - h / 2, w, h, fc=colours["fill"],
                                               ec=colours["edge"], lw=1.2, zorder=3))
        ax.text(x, y + h / 2 - 0.09, title, ha="center", va="top", fontsize=9.5, fontweight="bold",
                color=TEXT, zorder=4)
        ax.text(x, y - h / 2 + 0.08, subtitle, ha="center", va="bottom", fontsize=7.5, color=MUTED,
                linespacing=1.1, zorder=4)

    for a, b, label, at in EDGES:
        (xa, ya), (xb, yb) = CHAPTERS[a][:2], CHAPTERS[b][:2]
        ax.annotate("", xy=(xb, yb), xytext=(xa, ya), zorder=2,
                    arrowprops=dict(arrowstyle="-|>,head_length=0.5,head_width=0.25", color="#1f2937",
                                    lw=1.2, patchA=boxes[a], patchB=boxes[b], shrinkA=1, shrinkB=1))
        if label:
            x, y = at if at else ((xa + xb) / 2, (ya + yb) / 2)
            ax.text(x, y, label, ha="center", va="center", fontsize=7.5, color=TEXT, linespacing=1.1,
                    zorder=5, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
    return fig


def main() -> None:
    plt.rcParams["svg.hashsalt"] = "minigan"  # stable ids in the SVG
    plt.rcParams["svg.fonttype"] = "none"     # text stays text (small, searchable)
    plt.rcParams["font.family"] = "sans-serif"  # browsers without DejaVu Sans use a similar font
    plt.rcParams["font.sans-serif"] = ["DejaVu Sans", "Arial", "Helvetica"]
    fig = draw()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, format="svg", facecolor="white", metadata={"Date": None})
    plt.close(fig)
    print(OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT)


if __name__ == "__main__":
    main()
