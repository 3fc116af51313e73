"""Exercises that check themselves: call a checker on your function and read its verdict.

Each ``check_xxx(your_fn)`` runs your code on fresh random inputs (several
cases, edge cases included), compares it with the package's own
implementation and returns a :class:`CheckResult`: true if it passed, and a
message that says what was tested or, if not, what went wrong and how to fix
it. A notebook cell ending in ``check_conv2d(my_conv2d)`` shows just that
message. Checkers seed their own random generators and restore the global ones.

Chapter 1, the MLP
    check_mlp_backward(fn)               fn(x, W1, b1, W2, b2, y) -> (dW1, db1, dW2, db2)
Chapter 2, CNNs
    check_conv2d(fn)                     fn(x, weight, bias, stride, padding) -> out
    check_conv_output_size(fn)           fn(size, kernel, stride, padding) -> int
Chapter 3, RNNs
    check_lstm_cell(fn)                  fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_new, c_new)
Chapter 4, attention
    check_causal_self_attention(fn)      fn(q, k, v) -> out
Chapter 5, the GAN game
    check_d_loss_minimax(fn)             fn(real, fake) -> scalar
    check_optimal_discriminator(fn)      fn(p_data, p_g) -> D_star
    check_d_step_detach(fn)              fn(G, D, opt_D, real, z) -> loss
Chapter 6, GAN losses
    check_g_loss_nonsaturating(fn), check_g_loss_saturating(fn), check_g_loss_lsgan(fn),
    check_g_loss_wasserstein(fn), check_g_loss_hinge(fn)                 fn(fake) -> scalar
    check_d_loss_lsgan(fn), check_d_loss_wasserstein(fn), check_d_loss_hinge(fn)
                                         fn(real, fake) -> scalar
    check_gradient_penalty(fn)           fn(critic, real, fake) -> scalar (without lambda)
Chapter 7, DCGAN
    check_dcgan_init(fn)                 fn(module), in place
    check_transposed_conv_output_size(fn)  fn(size, kernel, stride, padding, output_padding=0) -> int
Chapter 8, CycleGAN
    check_cyclegan_generator_loss(fn)    fn(G, F, D_X, D_Y, real_x, real_y, lambda_cycle=10.0,
                                            lambda_identity=0.5) -> scalar
    check_image_pool(cls)                cls(size), with .query(images) -> images
    check_linear_decay(fn)               fn(epoch, n_epochs, n_epochs_decay) -> float
Chapter 9, photos
    check_to_model_range(fn)             fn(pixels uint8) -> floats in [-1, 1]
    check_to_pixels(fn)                  fn(images in [-1, 1]) -> uint8 pixels
Chapter 10, efficiency
    check_conv_flops(fn)                 fn(c_in, c_out, k, h_out, w_out) -> int
    check_accumulated_gradient(fn)       fn(model, loss_fn, x, y, k), fills .grad

Each checker's docstring gives the shapes and conventions.
"""
from .conv import check_conv2d, check_conv_output_size, check_transposed_conv_output_size
from .core import CheckResult
from .cyclegan import check_cyclegan_generator_loss, check_image_pool, check_linear_decay
from .dcgan import check_dcgan_init
from .efficiency import check_accumulated_gradient, check_conv_flops
from .gan_game import check_d_step_detach, check_optimal_discriminator
from .gan_losses import (check_d_loss_hinge, check_d_loss_lsgan, check_d_loss_minimax, check_d_loss_wasserstein,
                         check_g_loss_hinge, check_g_loss_lsgan, check_g_loss_nonsaturating, check_g_loss_saturating,
                         check_g_loss_wasserstein)
from .images import check_to_model_range, check_to_pixels
from .mlp import check_mlp_backward
from .sequence import check_causal_self_attention, check_lstm_cell
from .wgan_gp import check_gradient_penalty

__all__ = [
    "CheckResult",
    "check_mlp_backward",  # chapter 1
    "check_conv2d", "check_conv_output_size",  # chapter 2
    "check_lstm_cell",  # chapter 3
    "check_causal_self_attention",  # chapter 4
    "check_d_loss_minimax", "check_optimal_discriminator", "check_d_step_detach",  # chapter 5
    "check_g_loss_nonsaturating", "check_g_loss_saturating", "check_d_loss_lsgan", "check_g_loss_lsgan",
    "check_d_loss_wasserstein", "check_g_loss_wasserstein", "check_d_loss_hinge", "check_g_loss_hinge",
    "check_gradient_penalty",  # chapter 6
    "check_dcgan_init", "check_transposed_conv_output_size",  # chapter 7
    "check_cyclegan_generator_loss", "check_image_pool", "check_linear_decay",  # chapter 8
    "check_to_model_range", "check_to_pixels",  # chapter 9
    "check_conv_flops", "check_accumulated_gradient",  # chapter 10
]
