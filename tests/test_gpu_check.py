"""tools/gpu_check.py, the script a GPU machine runs, runs on a CPU with --dry-run: both of its parts."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_dry_run(tmp_path):
    out = tmp_path / "gpu_check.json"
    # one chapter here (every chapter's smoke run is tests/test_gpu_smoke.py's); the whole step matrix
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py"), "--dry-run", "--chapters", "outlook",
                        "--json", str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["dry_run"] and report["machine"]["device"] == "cpu"
    assert [c["chapter"] for c in report["chapters"]] == ["outlook"] and report["chapters"][0]["status"] == "ok"
    rows = report["steps"]["reference_config"]
    assert [r["variant"] for r in rows] == [f"{p} {layout}" for p in ("fp32", "bf16", "fp16")
                                            for layout in ("NCHW", "channels_last", "compiled")]
    assert all(r["seconds"] > 0 and r["ratio_to_fp32"] > 0 for r in rows), rows
    assert rows[0]["ratio_to_fp32"] == 1.0
    assert report["steps"]["gpu_preset_seconds"] > 0
    assert "ms/iteration" in r.stdout and "outlook:" in r.stdout


def test_gpu_check_refuses_to_run_for_real_without_a_gpu():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the script would run for real")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_check.py")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "no CUDA device here; use --dry-run" in r.stderr
