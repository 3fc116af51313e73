"""Maintainer scripts for the book (not part of the installed package)."""
