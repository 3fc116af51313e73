"""Data sets the chapters use; every one is generated or ships with an installed package."""
from .toy import TOY_SETS, make_circles, make_moons, make_spirals, make_toy, make_xor

__all__ = ["TOY_SETS", "make_circles", "make_moons", "make_spirals", "make_toy", "make_xor"]
