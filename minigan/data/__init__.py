"""Data sets the chapters use; every one is generated or ships with an installed package."""
from .digits import Digits, load_digits
from .images import PHOTOS, load_photo
from .scenes import scene_pairs, unpaired_scenes
from .sequences import IGNORE, TASKS, answer_accuracy, make_sequence_task, task_vocab_size
from .text import CharTokenizer, TextData, load_corpus
from .toy import TOY_SETS, make_circles, make_moons, make_spirals, make_toy, make_xor

__all__ = [
    "Digits", "load_digits", "PHOTOS", "load_photo",
    "scene_pairs", "unpaired_scenes",
    "IGNORE", "TASKS", "answer_accuracy", "make_sequence_task", "task_vocab_size",
    "CharTokenizer", "TextData", "load_corpus",
    "TOY_SETS", "make_circles", "make_moons", "make_spirals", "make_toy", "make_xor",
]
