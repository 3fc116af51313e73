"""The Transformer block against nn.TransformerEncoderLayer (float64, 1e-5), and TinyGPT's contract."""
import pytest
import torch
from torch import nn

from minigan.data.sequences import answer_accuracy, make_sequence_task, task_vocab_size
from minigan.lm import generate, lm_loss
from minigan.nn.attention import causal_mask
from minigan.nn.transformer import Block, GPTConfig, TinyGPT

TOL = 1e-5


def _close(a, b):
    return (a - b).abs().max().item() < TOL


def _reference_layer(block: Block, n_embd: int, n_head: int) -> nn.TransformerEncoderLayer:
    """PyTorch's own pre-norm layer with the block's weights: same maths, different code."""
    ref = nn.TransformerEncoderLayer(n_embd, n_head, dim_feedforward=4 * n_embd, dropout=0.0,
                                     activation="gelu", batch_first=True, norm_first=True).double()
    pairs = {"self_attn.in_proj_weight": block.attn.qkv.weight, "self_attn.in_proj_bias": block.attn.qkv.bias,
             "self_attn.out_proj.weight": block.attn.proj.weight, "self_attn.out_proj.bias": block.attn.proj.bias,
             "linear1.weight": block.mlp.fc.weight, "linear1.bias": block.mlp.fc.bias,
             "linear2.weight": block.mlp.proj.weight, "linear2.bias": block.mlp.proj.bias,
             "norm1.weight": block.ln_1.weight, "norm1.bias": block.ln_1.bias,
             "norm2.weight": block.ln_2.weight, "norm2.bias": block.ln_2.bias}
    params = dict(ref.named_parameters())
    assert set(params) == set(pairs)
    with torch.no_grad():
        for name, ours in pairs.items():
            params[name].copy_(ours)
    return ref, pairs, params


def test_block_matches_torch_transformer_encoder_layer_forward_and_backward():
    torch.manual_seed(0)
    C, nh, T = 16, 4, 9
    block = Block(C, nh).double()
    with torch.no_grad():  # LayerNorm starts at weight 1, bias 0: perturb so copying them is tested too
        for ln in (block.ln_1, block.ln_2):
            ln.weight.add_(0.1 * torch.randn_like(ln.weight))
            ln.bias.add_(0.1 * torch.randn_like(ln.bias))
    ref, pairs, params = _reference_layer(block, C, nh)
    x = torch.randn(2, T, C, dtype=torch.float64, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)

    y = block(x)
    y_ref = ref(x_ref, src_mask=~causal_mask(T), is_causal=True)  # True = may NOT attend, in torch.nn
    assert y.shape == (2, T, C) and _close(y, y_ref)

    upstream = torch.randn(2, T, C, dtype=torch.float64)
    y.backward(upstream)
    y_ref.backward(upstream)
    assert _close(x.grad, x_ref.grad)
    for name, ours in pairs.items():
        assert _close(ours.grad, params[name].grad), name


def test_tiny_gpt_maps_ids_to_logits_and_is_causal():
    torch.manual_seed(0)
    model = TinyGPT(11, block_size=12, n_layer=2, n_head=2, n_embd=16).double().eval()
    idx = torch.randint(11, (3, 12))
    logits, maps = model(idx, return_attn=True)
    assert logits.shape == (3, 12, 11) and len(maps) == 2 and maps[0].shape == (3, 2, 12, 12)
    for t in range(12):  # changing token t must leave every logit before t untouched
        changed = idx.clone()
        changed[:, t] = (changed[:, t] + 1) % 11
        new = model(changed)
        assert torch.equal(new[:, :t], logits[:, :t])
        assert not torch.allclose(new[:, t:], logits[:, t:])


@pytest.mark.parametrize("pos", ["learned", "sinusoidal", "none"])
def test_tiny_gpt_position_options_and_parameter_counts(pos):
    C, V, T = 16, 11, 12
    model = TinyGPT(V, block_size=T, n_layer=1, n_head=2, n_embd=C, pos=pos)
    per_block = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C)
    expected = V * C + per_block + 2 * C + (C * V + V) + (T * C if pos == "learned" else 0)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_tiny_gpt_errors_name_the_problem():
    model = TinyGPT(5, block_size=4, n_layer=1, n_head=1, n_embd=8)
    with pytest.raises(ValueError, match="exceeds block_size 4"):
        model(torch.zeros(1, 5, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown pos"):
        TinyGPT(5, pos="rope")


def test_config_presets_and_from_config():
    cfg = GPTConfig.from_preset("cpu", vocab_size=7)
    model = TinyGPT.from_config(cfg)
    assert model.block_size == cfg.block_size and len(model.blocks) == cfg.n_layer
    assert model(torch.zeros(2, 3, dtype=torch.long)).shape == (2, 3, 7)
    gpu = GPTConfig.from_preset("gpu")
    assert gpu.n_embd > cfg.n_embd and gpu.steps > cfg.steps and gpu.n_embd % gpu.n_head == 0


def test_tiny_gpt_learns_a_short_copy_task_and_samples_with_lm_helpers():
    torch.manual_seed(0)
    x, y = make_sequence_task("copy", 128, length=5, vocab=4, seed=0)
    x_new, y_new = make_sequence_task("copy", 128, length=5, vocab=4, seed=1)
    model = TinyGPT(task_vocab_size(4), block_size=x.shape[1], n_layer=1, n_head=2, n_embd=32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        loss = lm_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        assert answer_accuracy(model(x_new), y_new) > 0.9  # sequences it never saw
    out = generate(model, x[:2, :6], 4, block_size=model.block_size, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 10)
