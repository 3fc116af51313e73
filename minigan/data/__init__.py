"""Data sets the chapters use: every one is generated or ships with an installed package, except the
official CycleGAN photo sets, which :func:`download_cyclegan_dataset` fetches on request (never in CI)."""
from .digits import Digits, load_digits
from .download import CYCLEGAN_DATASETS, download_cyclegan_dataset
from .folders import UnpairedImageFolder, cyclegan_transform, list_images, load_rgb, make_scenes_folder
from .images import PHOTOS, load_photo
from .scenes import scene_pairs, unpaired_scenes
from .sequences import IGNORE, TASKS, answer_accuracy, make_sequence_task, task_vocab_size
from .text import CharTokenizer, TextData, load_corpus
from .toy import TOY_SETS, make_circles, make_moons, make_spirals, make_toy, make_xor

__all__ = [
    "Digits", "load_digits", "PHOTOS", "load_photo",
    "CYCLEGAN_DATASETS", "download_cyclegan_dataset",
    "UnpairedImageFolder", "cyclegan_transform", "list_images", "load_rgb", "make_scenes_folder",
    "scene_pairs", "unpaired_scenes",
    "IGNORE", "TASKS", "answer_accuracy", "make_sequence_task", "task_vocab_size",
    "CharTokenizer", "TextData", "load_corpus",
    "TOY_SETS", "make_circles", "make_moons", "make_spirals", "make_toy", "make_xor",
]
