"""Progress bars must not flood a kernel's output channel (see minigan.utils.PROGRESS_REFRESH_S).

nbval sends a cell, waits for the kernel's reply, and only then reads the outputs; what the
kernel sent meanwhile waits in two ZeroMQ queues that hold about 1,200 messages together, and the
rest is dropped. tqdm's widget bar sends about two messages per redraw, ten redraws a second by
default, so a cell that trained for a minute or more lost its last outputs and nbval failed with
"Timeout of 5 seconds exceeded waiting for output" (chapter 4's learning-rate sweep on a slow CI
machine). These tests run a kernel the way nbval does and count what arrives.
"""
from __future__ import annotations

import io
from queue import Empty

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipywidgets")  # tqdm.auto draws a widget only where ipywidgets is installed

from minigan.utils import PROGRESS_REFRESH_S, progress_bar  # noqa: E402

SECONDS = 6.0  # how long each cell keeps a bar busy


@pytest.fixture(scope="module")
def kernel():
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run_like_nbval(kc, code: str) -> dict[str, int]:
    """Execute ``code``; read the output channel only after the reply, as nbval does; count by type."""
    msg_id = kc.execute(code)
    kc.get_shell_msg(timeout=120)
    counts: dict[str, int] = {}
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=10)
        except Empty:
            pytest.fail(f"the kernel's outputs were lost, as nbval's 'waiting for output' failure: {counts}")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            return counts


def bar_cell(make_bar: str) -> str:
    return f"""
import time
from minigan.train import fit
from minigan.utils import progress_bar
from tqdm.auto import tqdm
t0 = time.time()
bar = {make_bar}
for i in bar:
    time.sleep(0.002)
    if time.time() - t0 > {SECONDS}:
        break
bar.close()
print("done")
"""


def test_progress_bar_redraws_once_a_second():
    out = io.StringIO()
    assert progress_bar(range(3), file=out).mininterval == PROGRESS_REFRESH_S == 1.0
    assert progress_bar(range(3), file=out, mininterval=0.5).mininterval == 0.5  # callers may still choose


def test_package_bar_sends_a_tenth_of_tqdms_messages(kernel):
    ours = run_like_nbval(kernel, bar_cell("progress_bar(range(10**9))"))
    tqdms = run_like_nbval(kernel, bar_cell("tqdm(range(10**9))"))
    assert ours.get("stream") == tqdms.get("stream") == 1  # "done" arrived both times
    ours_updates, tqdm_updates = ours.get("comm_msg", 0), tqdms.get("comm_msg", 0)
    # about 2 messages per redraw: ours redraws ~SECONDS times, tqdm's default ~10 * SECONDS times
    assert ours_updates <= 4 * SECONDS / PROGRESS_REFRESH_S + 10, ours
    assert tqdm_updates >= 4 * ours_updates, (ours, tqdms)


def test_fit_uses_the_package_bar(kernel):
    cell = f"""
import time
from minigan.train import fit
n = int({SECONDS} / 0.002)
history = fit(lambda i: (time.sleep(0.002), {{"loss": float(i)}})[1], steps=n, desc="sleeping")
print(len(history["loss"]) == n)
"""
    counts = run_like_nbval(kernel, cell)
    assert counts.get("stream") == 1
    assert counts.get("comm_msg", 0) <= 4 * SECONDS / PROGRESS_REFRESH_S + 10, counts
