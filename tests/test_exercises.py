"""minigan.exercises: each checker passes a learner-style solution and names typical mistakes, deterministically.

The solutions below are written the way a reader would (loops, einsum, the
textbook formula); ``mistake=`` switches on one typical error. Every checker
must pass its solution, fail each mistake with the intended reason and words,
leave the global random state alone, and say the same thing twice.
"""
import math
import random
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import minigan.exercises as E
from minigan.bench import count_flops
from minigan.exercises import CheckResult


# ---------------------------------------------------------------- chapters 1 to 4

def mlp_backward(x, W1, b1, W2, b2, y, mistake=None):
    B = x.shape[0]
    h = torch.tanh(x @ W1.T + b1)  # (B, H)
    p = torch.softmax(h @ W2.T + b2, dim=1)  # (B, K)
    onehot = F.one_hot(y, W2.shape[0]).to(x.dtype)
    dlogits = (onehot - p) if mistake == "sign" else (p - onehot)
    if mistake != "no_mean":
        dlogits = dlogits / B
    dW2, db2 = dlogits.T @ h, dlogits.sum(0)
    dh = dlogits @ W2
    dz = dh if mistake == "no_tanh" else dh * (1 - h ** 2)
    dW1 = x.T @ dz if mistake == "transposed" else dz.T @ x
    db1 = dz if mistake == "bias_not_summed" else dz.sum(0)
    return (dW1, dW2, db1, db2) if mistake == "order" else (dW1, db1, dW2, db2)


def conv2d_loops(x, weight, bias, stride, padding, mistake=None):
    B, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    if mistake == "flip":
        weight = weight.flip(-2, -1)
    p = 0 if mistake == "no_padding" else padding
    xp = F.pad(x, (p, p, p, p))
    s_shape = 1 if mistake == "stride_shape" else stride
    s_index = 1 if mistake in ("stride_shape", "stride_index") else stride
    H_out, W_out = (H + 2 * p - kh) // s_shape + 1, (W + 2 * p - kw) // s_shape + 1
    out = torch.zeros(B, O, H_out, W_out, dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            patch = xp[:, :, i * s_index:i * s_index + kh, j * s_index:j * s_index + kw]  # (B, C, kh, kw)
            out[:, :, i, j] = torch.einsum("bcuv,ocuv->bo", patch, weight)
    return out if mistake == "no_bias" else out + bias[:, None, None]


def conv_output_size(size, kernel, stride, padding, mistake=None):
    if mistake == "padding_once":
        return (size + padding - kernel) // stride + 1
    if mistake == "no_plus_one":
        return (size + 2 * padding - kernel) // stride
    if mistake == "true_division":
        return (size + 2 * padding - kernel) / stride + 1
    if mistake == "float":
        return float((size + 2 * padding - kernel) // stride + 1)
    return (size + 2 * padding - kernel) // stride + 1


def lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh, mistake=None):
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # (B, 4H)
    i, f, g, o = gates.chunk(4, dim=1)
    if mistake == "order":
        f, i, g, o = gates.chunk(4, dim=1)
    sig, tanh = (torch.tanh, torch.sigmoid) if mistake == "activations" else (torch.sigmoid, torch.tanh)
    c_new = sig(i) * tanh(g) if mistake == "no_forget" else sig(f) * c + sig(i) * tanh(g)
    h_new = sig(o) * c_new if mistake == "h_no_tanh" else sig(o) * tanh(c_new)
    return (c_new, h_new) if mistake == "swapped" else (h_new, c_new)


def causal_attention(q, k, v, mistake=None):
    T, hs = q.shape[-2], q.shape[-1]
    scale = {"no_scale": 1.0, "over_hs": 1 / hs}.get(mistake, 1 / math.sqrt(hs))
    scores = q @ k.transpose(-2, -1) * scale  # (B, nh, T, T)
    allowed = {"triu": torch.ones(T, T).triu(), "strict": torch.ones(T, T).tril(-1)}.get(
        mistake, torch.ones(T, T).tril()).bool()
    if mistake not in ("no_mask", "after"):
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-2 if mistake == "dim" else -1)
    if mistake == "after":
        weights = weights.masked_fill(~allowed, 0.0)
    out = weights @ v
    return (out, weights) if mistake == "tuple" else out


# ---------------------------------------------------------------- chapters 5 and 6

def d_loss_minimax(real, fake, mistake=None):
    if mistake == "bce_concat":
        logits = torch.cat([real, fake])
        return F.binary_cross_entropy_with_logits(logits, torch.cat([torch.ones_like(real), torch.zeros_like(fake)]))
    if mistake == "extra_sigmoid":
        real, fake = torch.sigmoid(real), torch.sigmoid(fake)
    if mistake == "log_logits":
        return -torch.log(real).mean() - torch.log(1 - fake).mean()
    if mistake == "swapped":
        real, fake = fake, real
    loss = -torch.log(torch.sigmoid(real)).mean() - torch.log(1 - torch.sigmoid(fake)).mean()
    if mistake == "per_sample":
        return -torch.log(torch.sigmoid(real)) - torch.log(1 - torch.sigmoid(fake)).mean()
    if mistake == "item":
        return loss.item()
    return -loss if mistake == "sign" else loss


LOSS_SOLUTIONS = {
    "check_g_loss_nonsaturating": lambda fake: -torch.log(torch.sigmoid(fake)).mean(),
    "check_g_loss_saturating": lambda fake: torch.log(1 - torch.sigmoid(fake)).mean(),
    "check_d_loss_lsgan": lambda real, fake: 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean(),
    "check_g_loss_lsgan": lambda fake: ((fake - 1) ** 2).mean(),
    "check_d_loss_wasserstein": lambda real, fake: fake.mean() - real.mean(),
    "check_g_loss_wasserstein": lambda fake: -fake.mean(),
    "check_d_loss_hinge": lambda real, fake: torch.relu(1 - real).mean() + torch.relu(1 + fake).mean(),
    "check_g_loss_hinge": lambda fake: -fake.mean(),
}

LOSS_MISTAKES = [
    ("check_g_loss_nonsaturating", lambda fake: torch.log(1 - torch.sigmoid(fake)).mean(), "saturating", "saturating"),
    ("check_g_loss_nonsaturating", lambda fake: -torch.log(1 - torch.sigmoid(fake)).mean(), "labels_swapped",
     "target 0"),
    ("check_g_loss_nonsaturating", lambda fake: torch.log(torch.sigmoid(fake)).mean(), "sign", "wrong sign"),
    ("check_g_loss_saturating", lambda fake: -torch.log(torch.sigmoid(fake)).mean(), "nonsaturating", "non-saturating"),
    ("check_g_loss_saturating", lambda fake: -torch.log(1 - torch.sigmoid(fake)).mean(), "sign", "wrong sign"),
    ("check_d_loss_lsgan", lambda real, fake: ((real - 1) ** 2).mean() + (fake ** 2).mean(), "half_factor", "twice"),
    ("check_d_loss_lsgan", lambda real, fake: 0.5 * ((real - 1) ** 2).mean() + 0.5 * ((fake + 1) ** 2).mean(),
     "targets", "-1"),
    ("check_d_loss_lsgan", lambda real, fake: 0.5 * (real ** 2).mean() + 0.5 * ((fake - 1) ** 2).mean(),
     "labels_swapped", "swapped the roles"),
    ("check_g_loss_lsgan", lambda fake: 0.5 * ((fake - 1) ** 2).mean(), "half_factor", "not"),
    ("check_g_loss_lsgan", lambda fake: (fake ** 2).mean(), "labels_swapped", "onto 0"),
    ("check_d_loss_wasserstein", lambda real, fake: real.mean() - fake.mean(), "sign", "wrong sign"),
    ("check_d_loss_wasserstein", lambda real, fake: fake.mean(), "missing_term", "only has the term of the fake"),
    ("check_d_loss_wasserstein", lambda real, fake: fake.sum() - real.sum(), "sum", "sum"),
    ("check_g_loss_wasserstein", lambda fake: fake.mean(), "sign", "wrong sign"),
    ("check_g_loss_wasserstein", lambda fake: torch.relu(1 - fake).mean(), "hinge_on_g", "no max"),
    ("check_g_loss_wasserstein", lambda fake: -fake.sum(), "sum", "mean"),
    ("check_d_loss_hinge", lambda real, fake: (1 - real).mean() + (1 + fake).mean(), "no_relu", "relu"),
    ("check_d_loss_hinge", lambda real, fake: torch.relu(real - 1).mean() + torch.relu(-1 - fake).mean(),
     "margin_sign", "signs inside relu"),
    ("check_d_loss_hinge", lambda real, fake: torch.relu(-real).mean() + torch.relu(fake).mean(), "margin", "margin"),
    ("check_d_loss_hinge", lambda real, fake: fake.mean() - real.mean(), "wrong_loss", "Wasserstein critic loss"),
    ("check_g_loss_hinge", lambda fake: torch.relu(1 - fake).mean(), "hinge_on_g", "only the discriminator"),
    ("check_g_loss_hinge", lambda fake: ((fake - 1) ** 2).mean(), "wrong_loss", "LSGAN generator loss"),
]


def d_step(G, D, opt_D, real, z, mistake=None):
    fake = G(z) if mistake == "no_detach" else G(z).detach()
    loss = -torch.log(torch.sigmoid(D(real))).mean() - torch.log(1 - torch.sigmoid(D(fake))).mean()
    if mistake == "sign":
        loss = -loss
    if mistake == "halved":
        loss = loss / 2
    if mistake != "no_zero_grad":
        opt_D.zero_grad()
    loss.backward()
    if mistake != "no_step":
        opt_D.step()
    return None if mistake == "no_return" else loss.item()


def gradient_penalty(critic, real, fake, mistake=None):
    N = real.shape[0]
    eps_shape = real.shape if mistake == "eps_per_element" else (N,) + (1,) * (real.dim() - 1)
    eps = torch.randn(eps_shape, dtype=real.dtype) if mistake == "randn" else torch.rand(eps_shape, dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    scores = critic(x_hat)
    out = scores.mean() if mistake == "grad_of_mean" else scores.sum()
    (grad,) = torch.autograd.grad(out, x_hat, create_graph=mistake != "no_create_graph")
    if mistake == "whole_batch":
        return (grad.norm() - 1) ** 2
    norms = grad.reshape(N, -1).norm(dim=1)
    per_sample = norms ** 2 if mistake == "no_minus_one" else (norms - 1) ** 2
    if mistake == "sum":
        return per_sample.sum()
    return 10 * per_sample.mean() if mistake == "lambda" else per_sample.mean()


# ---------------------------------------------------------------- chapters 7 and 8

def dcgan_init(module, mistake=None):
    modules = module.children() if mistake == "children" else module.modules()
    convs = (nn.Conv2d,) if mistake == "no_transpose" else (nn.Conv2d, nn.ConvTranspose2d)
    for m in modules:
        if isinstance(m, convs):
            nn.init.normal_(m.weight, 0.0, 1.0 if mistake == "std_one" else 0.02)
            if m.bias is not None and mistake != "no_bias":
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 0.0 if mistake == "bn_zero" else 1.0, 0.02)
            if mistake == "bn_ones":
                nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def transposed_size(size, kernel, stride, padding, output_padding=0, mistake=None):
    if mistake == "no_output_padding":
        output_padding = 0
    if mistake == "size_times_stride":
        return size * stride - 2 * padding + kernel + output_padding
    if mistake == "forward":
        return (size + 2 * padding - kernel) // stride + 1
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def cyclegan_g_loss(G, F_, D_X, D_Y, real_x, real_y, lambda_cycle=10.0, lambda_identity=0.5, mistake=None):
    fake_y, fake_x = G(real_x), F_(real_y)
    mse = lambda a, target: ((a - target) ** 2).mean()  # noqa: E731
    if mistake == "detached":
        fake_y, fake_x = fake_y.detach(), fake_x.detach()
    if mistake == "wrong_d":
        adv = mse(D_X(fake_y), 1) + mse(D_Y(fake_x), 1)
    elif mistake == "adv_real":
        adv = mse(D_Y(real_y), 1) + mse(D_X(real_x), 1)
    else:
        adv = mse(D_Y(fake_y), 1) + mse(D_X(fake_x), 1)
    dist = F.mse_loss if mistake == "l2" else F.l1_loss
    cycle = dist(F_(fake_y), real_x) + dist(G(fake_x), real_y)
    identity = F.l1_loss(G(real_y), real_y) + F.l1_loss(F_(real_x), real_x)
    if mistake == "fixed_weights":
        lambda_cycle, lambda_identity = 10.0, 0.5
    w_id = lambda_identity if mistake == "id_weight" else lambda_cycle * lambda_identity
    total = adv + lambda_cycle * cycle
    return total if mistake == "no_identity" else total + w_id * identity


class ImagePool:
    """The reference's pool, as a reader writes it with Python's random."""

    def __init__(self, size):
        self.size, self.images = size, []

    def query(self, images):
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)


class NeverOldPool(ImagePool):
    def query(self, images):
        if self.size == 0:
            return images.detach()
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
        return images.detach()


class AlwaysOldPool(ImagePool):
    def query(self, images):
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            else:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image.clone()
        return torch.stack(out)


class AttachedPool(ImagePool):
    def query(self, images):
        super().query(images)
        return images


class NoClonePool(ImagePool):
    def query(self, images):
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.random() > 0.5:
                i = random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.stack(out)


class GrowingPool(ImagePool):
    def query(self, images):
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) >= self.size and random.random() > 0.5:
                out.append(self.images[random.randrange(len(self.images))].clone())
            else:
                out.append(image)
            self.images.append(image.clone())
        return torch.stack(out)


class KeepsOldPool(ImagePool):
    def query(self, images):
        if self.size == 0:
            return images.detach()
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif random.random() > 0.5:
                out.append(self.images[random.randrange(self.size)].clone())
            else:
                out.append(image)
        return torch.stack(out)


def linear_decay(epoch, n_epochs, n_epochs_decay, mistake=None):
    if mistake == "late":
        return 1.0 - max(0, epoch - n_epochs) / (n_epochs_decay + 1)
    if mistake == "from_start":
        return 1.0 - epoch / (n_epochs + n_epochs_decay)
    if mistake == "int_division":
        return 1 - max(0, epoch + 1 - n_epochs) // (n_epochs_decay + 1)
    return 1.0 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)


# ---------------------------------------------------------------- chapters 9 and 10

def to_model_range(pixels, mistake=None):
    if mistake == "unit":
        return pixels.float() / 255
    if mistake == "overflow":
        return pixels * 2 / 255 - 1  # uint8 * 2 wraps around before the division
    if mistake == "int":
        return pixels // 128
    return pixels.float() / 127.5 - 1


def to_pixels(images, mistake=None):
    x = images if mistake == "no_clamp" else images.clamp(-1, 1)
    if mistake == "unit":
        return (x * 255).round().to(torch.uint8)
    scaled = (x + 1) * 127.5
    if mistake == "float":
        return scaled.round()
    return scaled.to(torch.uint8) if mistake == "truncate" else scaled.round().to(torch.uint8)


def conv_flops(c_in, c_out, k, h_out, w_out, mistake=None):
    macs = c_in * c_out * k * k * h_out * w_out
    if mistake == "macs":
        return macs
    if mistake == "k":
        return 2 * c_in * c_out * k * h_out * w_out
    return 2 * c_in * c_out * k * k if mistake == "per_pixel" else 2 * macs


def accumulate(model, loss_fn, x, y, k, mistake=None):
    if mistake == "full_batch":
        model.zero_grad()
        loss_fn(model(x), y).backward()
        return
    if mistake != "no_zero_grad":
        model.zero_grad()
    for x_i, y_i in zip(x.chunk(k), y.chunk(k)):
        if mistake == "zero_inside":
            model.zero_grad()
        loss = loss_fn(model(x_i), y_i)
        (loss if mistake == "no_scale" else loss / k).backward()


# ---------------------------------------------------------------- the tables

SOLUTIONS = {
    "check_mlp_backward": mlp_backward,
    "check_conv2d": conv2d_loops,
    "check_conv_output_size": conv_output_size,
    "check_lstm_cell": lstm_cell,
    "check_causal_self_attention": causal_attention,
    "check_d_loss_minimax": d_loss_minimax,
    "check_optimal_discriminator": lambda p_data, p_g: p_data / (p_data + p_g),
    "check_d_step_detach": d_step,
    **LOSS_SOLUTIONS,
    "check_gradient_penalty": gradient_penalty,
    "check_dcgan_init": dcgan_init,
    "check_transposed_conv_output_size": transposed_size,
    "check_cyclegan_generator_loss": cyclegan_g_loss,
    "check_image_pool": ImagePool,
    "check_linear_decay": linear_decay,
    "check_to_model_range": to_model_range,
    "check_to_pixels": to_pixels,
    "check_conv_flops": conv_flops,
    "check_accumulated_gradient": accumulate,
}


def wrong(name, mistake):
    return partial(SOLUTIONS[name], mistake=mistake)


MISTAKES = [  # (checker, wrong answer, reason, words the message must contain)
    ("check_mlp_backward", wrong("check_mlp_backward", "sign"), "sign", "wrong sign"),
    ("check_mlp_backward", wrong("check_mlp_backward", "no_mean"), "no_mean", "batch size"),
    ("check_mlp_backward", wrong("check_mlp_backward", "no_tanh"), "tanh_derivative", "1 - h**2"),
    ("check_mlp_backward", wrong("check_mlp_backward", "bias_not_summed"), "bias_not_summed", "sum its gradient"),
    ("check_mlp_backward", wrong("check_mlp_backward", "transposed"), "shape", "transpose"),
    ("check_mlp_backward", wrong("check_mlp_backward", "order"), "order", "(dW1, dW2, db1, db2)"),
    ("check_conv2d", wrong("check_conv2d", "flip"), "flipped", "flipped the kernel"),
    ("check_conv2d", wrong("check_conv2d", "no_bias"), "no_bias", "bias is missing"),
    ("check_conv2d", wrong("check_conv2d", "stride_shape"), "stride", "stride-1"),
    ("check_conv2d", wrong("check_conv2d", "stride_index"), "stride", "(i * s, j * s)"),
    ("check_conv2d", wrong("check_conv2d", "no_padding"), "padding", "without padding"),
    ("check_conv_output_size", wrong("check_conv_output_size", "padding_once"), "padding_once", "2 * padding"),
    ("check_conv_output_size", wrong("check_conv_output_size", "no_plus_one"), "no_plus_one", "+ 1"),
    ("check_conv_output_size", wrong("check_conv_output_size", "true_division"), "no_floor", "//"),
    ("check_conv_output_size", wrong("check_conv_output_size", "float"), "type", "return an int"),
    ("check_lstm_cell", wrong("check_lstm_cell", "order"), "gate_order", "(f, i, g, o)"),
    ("check_lstm_cell", wrong("check_lstm_cell", "activations"), "activation", "other way round"),
    ("check_lstm_cell", wrong("check_lstm_cell", "no_forget"), "no_forget", "forgets everything"),
    ("check_lstm_cell", wrong("check_lstm_cell", "h_no_tanh"), "h_no_tanh", "tanh(c_new)"),
    ("check_lstm_cell", wrong("check_lstm_cell", "swapped"), "swapped", "(h_new, c_new)"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "no_mask"), "future_leak", "leak"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "triu"), "future_leak", "changing positions"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "strict"), "nan", "diagonal"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "no_scale"), "no_scale", "1/sqrt(hs)"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "over_hs"), "wrong_scale", "by hs"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "dim"), "softmax_dim", "dim=-1"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "after"), "mask_after_softmax", "before"),
    ("check_causal_self_attention", wrong("check_causal_self_attention", "tuple"), "type", "only the output"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "sign"), "sign", "wrong sign"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "bce_concat"), "pooled_mean", "one mean per term"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "swapped"), "labels_swapped", "swapped the roles"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "extra_sigmoid"), "extra_sigmoid", "logits"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "log_logits"), "nan", "softplus"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "per_sample"), "not_scalar", ".mean()"),
    ("check_d_loss_minimax", wrong("check_d_loss_minimax", "item"), "no_grad", ".item()"),
    ("check_optimal_discriminator", lambda p, q: q / (p + q), "swapped", "p_g on top"),
    ("check_optimal_discriminator", lambda p, q: p / q, "ratio", "density ratio"),
    ("check_optimal_discriminator", lambda p, q: p, "no_denominator", "denominator"),
    ("check_d_step_detach", wrong("check_d_step_detach", "no_detach"), "not_detached", "G(z).detach()"),
    ("check_d_step_detach", wrong("check_d_step_detach", "no_zero_grad"), "no_zero_grad", "zero_grad()"),
    ("check_d_step_detach", wrong("check_d_step_detach", "sign"), "sign", "increased"),
    ("check_d_step_detach", wrong("check_d_step_detach", "no_step"), "no_step", "opt_D.step()"),
    ("check_d_step_detach", wrong("check_d_step_detach", "no_return"), "no_return", "returns None"),
    ("check_d_step_detach", wrong("check_d_step_detach", "halved"), "half_loss", "half as big"),
    *LOSS_MISTAKES,
    ("check_gradient_penalty", wrong("check_gradient_penalty", "no_create_graph"), "no_create_graph", "create_graph"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "no_minus_one"), "no_minus_one", "(||grad|| - 1)**2"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "lambda"), "included_lambda", "10 times"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "whole_batch"), "whole_batch_norm", "per sample"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "sum"), "sum", "average"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "grad_of_mean"), "grad_of_mean", "sum"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "eps_per_element"), "eps_per_element", "one per sample"),
    ("check_gradient_penalty", wrong("check_gradient_penalty", "randn"), "eps_range", "torch.rand"),
    ("check_dcgan_init", wrong("check_dcgan_init", "std_one"), "wrong_std", "about 1"),
    ("check_dcgan_init", wrong("check_dcgan_init", "bn_zero"), "bn_weight", "centred at 0"),
    ("check_dcgan_init", wrong("check_dcgan_init", "bn_ones"), "bn_weight", "exactly 1"),
    ("check_dcgan_init", wrong("check_dcgan_init", "no_bias"), "conv_bias", "bias"),
    ("check_dcgan_init", wrong("check_dcgan_init", "no_transpose"), "forgot_convtranspose", "not a subclass"),
    ("check_dcgan_init", wrong("check_dcgan_init", "children"), "unchanged", "module.modules()"),
    ("check_transposed_conv_output_size", wrong("check_transposed_conv_output_size", "no_output_padding"),
     "no_output_padding", "output_padding"),
    ("check_transposed_conv_output_size", wrong("check_transposed_conv_output_size", "size_times_stride"),
     "size_minus_one", "(size - 1) * stride"),
    ("check_transposed_conv_output_size", wrong("check_transposed_conv_output_size", "forward"),
     "forward_formula", "ordinary convolution"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "no_identity"), "no_identity", "identity"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "id_weight"), "identity_weight",
     "lambda_cycle * lambda_identity"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "l2"), "l2_cycle", "L1"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "wrong_d"), "wrong_discriminator", "D_Y"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "adv_real"), "adv_on_real", "fakes"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "detached"), "detached", "gradients"),
    ("check_cyclegan_generator_loss", wrong("check_cyclegan_generator_loss", "fixed_weights"), "ignores_arguments",
     "values passed in"),
    ("check_image_pool", NeverOldPool, "never_old", "never hands back"),
    ("check_image_pool", AlwaysOldPool, "always_old", "half the time"),
    ("check_image_pool", AttachedPool, "not_detached", "detach"),
    ("check_image_pool", NoClonePool, "no_clone", "clone()"),
    ("check_image_pool", GrowingPool, "grows", "size images"),
    ("check_image_pool", KeepsOldPool, "not_replaced", "came back twice"),
    ("check_linear_decay", wrong("check_linear_decay", "late"), "off_by_one", "one epoch late"),
    ("check_linear_decay", wrong("check_linear_decay", "from_start"), "decays_from_start", "first epoch"),
    ("check_linear_decay", wrong("check_linear_decay", "int_division"), "no_decay", "integer division"),
    ("check_to_model_range", wrong("check_to_model_range", "unit"), "unit_range", "[-1, 1]"),
    ("check_to_model_range", wrong("check_to_model_range", "overflow"), "overflow", "wrapped around"),
    ("check_to_model_range", wrong("check_to_model_range", "int"), "not_float", "float"),
    ("check_to_pixels", wrong("check_to_pixels", "truncate"), "truncated", "round"),
    ("check_to_pixels", wrong("check_to_pixels", "no_clamp"), "no_clamp", "clamp"),
    ("check_to_pixels", wrong("check_to_pixels", "float"), "not_uint8", "uint8"),
    ("check_to_pixels", wrong("check_to_pixels", "unit"), "unit_range", "(x + 1) * 127.5"),
    ("check_conv_flops", wrong("check_conv_flops", "macs"), "macs", "multiply-add"),
    ("check_conv_flops", wrong("check_conv_flops", "k"), "kernel_not_squared", "k**2"),
    ("check_conv_flops", wrong("check_conv_flops", "per_pixel"), "per_pixel", "h_out * w_out"),
    ("check_accumulated_gradient", wrong("check_accumulated_gradient", "no_scale"), "no_scale", "divide it by k"),
    ("check_accumulated_gradient", wrong("check_accumulated_gradient", "no_zero_grad"), "no_zero_grad", "zero them"),
    ("check_accumulated_gradient", wrong("check_accumulated_gradient", "zero_inside"), "last_only", "last micro-batch"),
    ("check_accumulated_gradient", wrong("check_accumulated_gradient", "full_batch"), "full_batch", "micro-batches"),
]

CHECKERS = [name for name in E.__all__ if name.startswith("check_")]


# ---------------------------------------------------------------- the tests

@pytest.mark.parametrize("name", CHECKERS)
def test_the_solution_passes_and_the_global_random_state_is_left_alone(name):
    states = torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy()
    result = getattr(E, name)(SOLUTIONS[name])
    assert result.passed and result.reason == "ok" and bool(result), result.message
    assert result.message.startswith("Correct: ") and repr(result) == result.message
    assert torch.equal(torch.get_rng_state(), states[0]) and random.getstate() == states[1]
    assert np.array_equal(np.random.get_state()[1], states[2])
    assert getattr(E, name)(SOLUTIONS[name]).message == result.message  # deterministic


@pytest.mark.parametrize("name, fn, reason, words", MISTAKES,
                         ids=[f"{m[0][6:]}-{m[2]}-{i}" for i, m in enumerate(MISTAKES)])
def test_a_typical_mistake_is_named(name, fn, reason, words):
    result = getattr(E, name)(fn)
    assert not result and result.reason == reason, result.message
    assert result.message.startswith("Not yet: ") and words in result.message, result.message
    assert getattr(E, name)(fn).message == result.message  # deterministic, also when failing


def _stub(*args, **kwargs):
    raise NotImplementedError


def _broken(*args, **kwargs):
    raise ValueError("something is off")


@pytest.mark.parametrize("name", CHECKERS)
def test_a_stub_and_an_error_get_one_friendly_message(name):
    stub = getattr(E, name)(_stub)
    assert stub.reason == "not_implemented" and "NotImplementedError" in stub.message
    assert "replace the `raise`" in stub.message
    broken = getattr(E, name)(_broken)
    assert broken.reason == "raised" and "ValueError (something is off)" in broken.message
    assert "Traceback" not in broken.message


def test_an_error_message_names_the_input_shapes():
    result = E.check_conv2d(lambda x, w, b, s, p: x @ w)
    assert result.reason == "raised" and result.message.startswith("Not yet: your function raised RuntimeError")
    assert "x (2, 2, 6, 6), weight (3, 2, 3, 3), bias (3,), stride=1, padding=0" in result.message


def test_every_checker_is_covered_by_a_solution_and_two_mistakes():
    assert set(CHECKERS) == set(SOLUTIONS)
    for name in CHECKERS:
        assert sum(m[0] == name for m in MISTAKES) >= 2, name
        assert getattr(E, name).__doc__.startswith("Check ``"), name
    assert all(f"{name}(" in E.__doc__ for name in CHECKERS)


def test_check_result_shows_only_its_message():
    result = CheckResult("x", False, "sign", "Not yet: the sign.")
    assert repr(result) == str(result) == "Not yet: the sign." and not result


def test_conv_flops_formula_is_what_count_flops_counts():
    conv = nn.Conv2d(16, 3, 7, device="meta")
    x = torch.empty(1, 16, 38, 36, device="meta")  # output 32 x 30
    assert count_flops(lambda: conv(x)) == conv_flops(16, 3, 7, 32, 30)
