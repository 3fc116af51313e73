"""CycleGAN [zhu2017cyclegan]: networks identical to the authors' reference, the recipe, its training and its checks.

Paper names and code names: the generators G: X -> Y and F: Y -> X, the
discriminators D_X (real x vs F(y)) and D_Y (real y vs G(x)). The reference
code calls them netG_A, netG_B, netD_A, netD_B with A = X and B = Y.

The modules, from the bottom up (each imports only from those above it)::

    precision.py   mixed precision: autocast and fp16's grad scaler
    config.py      CycleGANConfig: the paper's recipe, presets, every setting's type, choices and range
    networks.py    ResnetGenerator, PatchDiscriminator, the N(0, 0.02) initialisation
    pool.py        ImagePool: the history of fakes the discriminators see
    model.py       CycleGAN (G, F, D_X, D_Y and the generators' averages) and make_cyclegan
    distributed.py data-parallel training under torchrun
    batching.py    stacked calls and micro-batches (speed and memory, not maths)
    steps.py       make_optimizers, generator_losses, generator_step, discriminator_step: the lesson
    data.py        data sources: TensorPairs, FolderPairs, open_data
    checkpoint.py  atomic saves, safe loads
    trainer.py     CycleGANTrainer: one iteration, the schedule, state_dict; train_cyclegan
    evaluate.py    the scenes benchmark's score against the known answer, and its baselines
    runfolder.py   RunFolder: the log, samples, scores and checkpoints a run writes as it trains
    run.py         train_run, a run in a folder: what `minigan cyclegan train` does
    translate.py   images in, translations out: what `minigan cyclegan translate` does
    pretrained.py  the authors' pretrained generators by name, downloaded once and loaded safely
    report.py      a test page for a run: `minigan cyclegan test`
    compress.py    pruning, int8 and distillation (chapter 10)
"""
from . import (checkpoint, compress, config, data, distributed, evaluate, model, networks, pool, precision,
               pretrained, report, steps, trainer, translate)
from .checkpoint import *  # noqa: F401,F403
from .config import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .evaluate import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .precision import *  # noqa: F401,F403
from .pretrained import *  # noqa: F401,F403
from .report import *  # noqa: F401,F403
from .steps import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403
from .translate import *  # noqa: F401,F403

__all__ = [*checkpoint.__all__, *config.__all__, *data.__all__, *evaluate.__all__, *model.__all__, *networks.__all__,
           *pool.__all__, *precision.__all__, *pretrained.__all__, *report.__all__, *steps.__all__, *trainer.__all__,
           *translate.__all__]
