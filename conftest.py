"""Repository-wide pytest setup: nbval's sanitize file, wherever pytest is run from."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"


def pytest_configure(config):
    # Notebook kernels inherit this: the same setting tools/run_notebooks.py uses.
    os.environ.setdefault("PYTHONHASHSEED", "0")
    # No test and no notebook reaches the network: downloads go to local servers the tests start.
    os.environ.setdefault("MINIGAN_OFFLINE", "1")
    # Smoke mode is for tests/test_gpu_smoke.py, which sets it for its own kernels; nbval checks the real runs.
    os.environ.pop("MINIGAN_SMOKE", None)
    # nbval reads the sanitize file relative to the current directory; give it
    # an absolute path so `pytest --nbval book/` works from any folder.
    if hasattr(config.option, "nbval_sanitize_with") and not config.option.nbval_sanitize_with:
        config.option.nbval_sanitize_with = str(SANITIZE)
