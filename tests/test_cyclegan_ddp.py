"""Data-parallel CycleGAN under torchrun (two CPU processes, gloo): the ranks train on different shards yet keep
identical weights, only rank 0 writes the run folder, a checkpoint resumes exactly with the same number of processes
and in a single process too; sharding gives disjoint shards and leaves a single process unchanged."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import torch
from torch.utils.data import Dataset

from minigan import batches
from minigan.cyclegan import CycleGANConfig, TensorPairs, load_checkpoint, make_cyclegan
from minigan.cyclegan import FolderPairs
from minigan.cyclegan.run import read_log, train_run
from minigan.data.folders import make_scenes_folder
from minigan.train import shard_of
from minigan.utils import seed_everything

# 8 training images, 2 processes x batch 2: epochs of ceil(8 / 4) = 2 iterations, 4 epochs in all
TINY_CFG = dict(image_size=16, ngf=4, ndf=4, n_blocks=1, batch_size=2, n_epochs=2, n_epochs_decay=2, epoch_steps=None)

# Run by every rank (test code, not package code): stop a run at iteration 5 and keep a copy of its folder, resume
# it to the end, and run the same schedule straight through; save what each rank ended with.
HELPER = """
import json, os, shutil, sys
import torch
from minigan.cyclegan.distributed import cleanup, init_from_env
from minigan.cyclegan.run import train_run

out, data, cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
d = init_from_env("cpu")  # joined here, so the three runs share one process group
kw = dict(data=data, overrides=cfg, progress=False)
first = train_run(out + "/a", steps=5, **kw)
if d.is_main:
    shutil.copytree(out + "/a", out + "/a5")  # the 2-process checkpoint at iteration 5, for a 1-process resume
d.barrier()
resumed = train_run(out + "/a", resume=True, **kw)
straight = train_run(out + "/b", **kw)
hist = lambda t: {k: list(v) for k, v in t.history.items()}
torch.save({"G": first.model.G.state_dict(), "first": hist(first), "resumed": hist(resumed),
            "straight": hist(straight)}, f"{out}/rank{d.rank}.pt")
cleanup()
"""


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("torchrun")
    launcher = [str(exe)] if exe.exists() else [sys.executable, "-m", "torch.distributed.run"]
    r = subprocess.run([*launcher, "--standalone", "--nproc_per_node=2", *args], capture_output=True, text=True,
                       cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_two_processes_keep_identical_weights_and_resume_in_one(tmp_path):
    data = make_scenes_folder(tmp_path / "scenes", n_train=8, n_test=2, size=16)
    (tmp_path / "helper.py").write_text(HELPER)
    r = torchrun("helper.py", str(tmp_path), str(data), json.dumps(TINY_CFG), cwd=tmp_path)
    assert r.stdout.count("training on") == 3  # three runs, echoed by rank 0 only
    assert "batch 2 x 2 processes = 4, 8 iterations (4 epochs of 2)" in r.stdout
    ranks = [torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1)]

    # different shards, so different losses; gradients all-reduced, so identical weights
    assert ranks[0]["first"]["g_total"] != ranks[1]["first"]["g_total"]
    seed_everything(0)
    initial = make_cyclegan(CycleGANConfig.from_preset("cpu", **TINY_CFG), generator=torch.Generator().manual_seed(0))
    for name, w in ranks[0]["G"].items():
        assert torch.equal(w, ranks[1]["G"][name]), name
    assert not all(torch.equal(w, initial.G.state_dict()[name]) for name, w in ranks[0]["G"].items())

    # only rank 0 wrote: one log row per iteration, one checkpoint with the plain networks and every rank's pools
    run = tmp_path / "a5"
    assert {p.name for p in run.iterdir()} == {"checkpoint.pt", "config.json", "log.csv", "samples"}
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["iter_000002.png", "iter_000004.png"]
    assert read_log(run / "log.csv")["iteration"] == list(range(5))
    state = load_checkpoint(run / "checkpoint.pt")
    assert state["world_size"] == 2 and state["iteration"] == 5 and len(state["rank_pools"]) == 1
    assert all(torch.equal(w, state["nets"]["G"][name]) for name, w in ranks[0]["G"].items())  # no "module."

    # resumed with the same two processes: exactly the run that never stopped, on both ranks
    assert ranks[0]["resumed"] == ranks[0]["straight"]
    assert {k: v[5:] for k, v in ranks[1]["resumed"].items()} == {k: v[5:] for k, v in ranks[1]["straight"].items()}
    assert read_log(tmp_path / "a" / "log.csv")["iteration"] == list(range(8))

    # the 2-process checkpoint continued by a single process, to the end of the schedule
    said = []
    t = train_run(run, data=data, resume=True, overrides=TINY_CFG, progress=False, echo=said.append)
    assert said[:2] == [f"resuming {run} at iteration 5 of 8",
                        "the checkpoint is from 2 process(es), this run has 1: the data starts a fresh epoch"]
    assert t.iteration == t.total_steps == 8 and t.dist.world_size == 1
    assert read_log(run / "log.csv")["iteration"] == list(range(8))
    assert load_checkpoint(run / "checkpoint.pt")["world_size"] == 1


class _Numbers(Dataset):
    """Item i is (i, i): the indices a rank is served."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor(i), torch.tensor(i)

    def set_epoch(self, epoch):
        pass


def test_shards_are_disjoint_and_cover_each_epoch():
    for n, world, batch in ((12, 2, 2), (10, 3, 2), (9, 2, 4)):
        steps = math.ceil(n / (batch * world))  # iterations per epoch
        for epoch_draws in (batches, "folder"):
            served = []
            for rank in range(world):
                g = torch.Generator().manual_seed(0)  # alike on every rank
                if epoch_draws == "folder":
                    src = FolderPairs(_Numbers(n)).batches(batch, generator=g, shard=(rank, world))
                    assert src.epoch_steps == steps
                    served.append(torch.cat([next(src)[0] for _ in range(steps)]).tolist())
                else:
                    src = batches(torch.arange(n), batch_size=batch, generator=g, shard=(rank, world))
                    served.append(torch.cat([next(src)[0] for _ in range(steps)]).tolist())
            every = [i for s in served for i in s]
            assert all(len(s) == math.ceil(n / world) for s in served)  # the same share each: ranks stay in step
            assert sorted(set(every)) == list(range(n))  # together: the whole epoch
            assert len(every) - n == -n % world  # disjoint but for the few repeated to even the shares out
    assert shard_of(torch.arange(3), (4, 5)).tolist() == [1]  # more ranks than items: wraps around
    assert TensorPairs(torch.zeros(10, 1), torch.zeros(7, 1)).batches(2, generator=None,
                                                                   shard=(1, 2)).epoch_steps == 3  # ceil(10 / (2 x 2))


def test_a_single_process_is_unchanged():
    g = torch.Generator().manual_seed(0)
    first, second = torch.randperm(10, generator=g), torch.randperm(10, generator=g)  # two epochs' orders
    expected = [first[:4], first[4:8], first[8:], second[:4]]  # batches of 4, the last of an epoch short
    for shard in (None, (0, 1)):
        b = batches(torch.arange(10), batch_size=4, generator=torch.Generator().manual_seed(0), shard=shard)
        assert [next(b)[0].tolist() for _ in range(4)] == [e.tolist() for e in expected]
    assert shard_of(first, None) is first and torch.equal(shard_of(first, (0, 1)), first)
