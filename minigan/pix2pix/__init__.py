"""pix2pix [isola2017pix2pix]: paired image-to-image translation, networks identical to the authors' reference.

Where CycleGAN learns from two unpaired piles of images, pix2pix learns from
pairs (x, y): the input and its one right output. The generator is a U-Net
with skip connections, the discriminator a PatchGAN that judges the pair
(x, y) rather than y alone, and the loss a conditional GAN plus λ·L1.

The modules, from the bottom up::

    networks.py   UnetGenerator (unet_256, unet_128); D is cyclegan's PatchDiscriminator with norm="batch"
    config.py     Pix2PixConfig: the paper's recipe and the cpu/gpu/paper presets
    model.py      Pix2Pix (G, D), make_pix2pix, conditional_input
    steps.py      make_optimizers, d_objective, discriminator_step, generator_step, train_step: the lesson
    trainer.py    Pix2PixTrainer: the schedule, state_dict and resume; train_pix2pix
"""
from . import config, model, networks, steps, trainer
from .config import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .networks import *  # noqa: F401,F403
from .steps import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403
