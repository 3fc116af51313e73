import pytest
import torch

from minigan.data.sequences import IGNORE, answer_accuracy, make_sequence_task, task_vocab_size
from minigan.data.text import CharTokenizer, TextData, load_corpus
from minigan.lm import estimate_loss, generate, lm_loss
from minigan.nn.char_lstm import CharLSTM


def test_pydoc_corpus_is_bundled_and_large():
    text = load_corpus()
    assert len(text) > 400_000 and "for" in text and text == load_corpus()
    with pytest.raises(ValueError, match="only bundled corpus"):
        load_corpus("shakespeare")


def test_tokenizer_round_trips_and_names_unknown_characters():
    tok = CharTokenizer("hello world")
    assert tok.vocab_size == 8 and tok.decode(tok.encode("low row")) == "low row"
    with pytest.raises(ValueError, match="'z'"):
        tok.encode("zoo")


def test_text_batches_are_shifted_windows_from_the_right_split():
    data = TextData.from_text("abcdefghij" * 50, val_fraction=0.2)
    assert len(data.val) == 100 and len(data.train) == 400
    g = torch.Generator().manual_seed(0)
    x, y = data.batch("val", batch_size=4, block_size=6, generator=g)
    assert x.shape == y.shape == (4, 6)
    assert torch.equal(x[:, 1:], y[:, :-1])
    assert all(data.tokenizer.decode(row) in "abcdefghij" * 3 for row in x)
    with pytest.raises(ValueError, match="split"):
        data.batch("test", batch_size=1, block_size=2)
    with pytest.raises(ValueError, match="does not fit"):
        data.batch("val", batch_size=1, block_size=100)


@pytest.mark.parametrize("task", ["copy", "reverse", "recall"])
def test_sequence_tasks_have_the_known_answer(task):
    x, y = make_sequence_task(task, 50, length=5, vocab=7, seed=1)
    sep = 7
    assert x.max() <= sep and task_vocab_size(7) == 8
    mask = y != IGNORE
    if task == "recall":
        assert x.shape == (50, 12) and mask.sum(1).tolist() == [1] * 50
        pairs = x[:, :10].reshape(50, 5, 2)
        key = x[:, 11]
        expected = torch.stack([pairs[i, (pairs[i, :, 0] == key[i]).nonzero()[0, 0], 1] for i in range(50)])
        assert torch.equal(y[:, 11], expected)
        assert all(len(set(r.tolist())) == 5 for r in pairs[:, :, 0])  # distinct keys
    else:
        assert x.shape == (50, 10) and (x[:, 5] == sep).all()
        source = x[:, :5]
        answer = y[:, 5:]
        assert torch.equal(answer, source if task == "copy" else source.flip(1))
        assert not mask[:, :5].any() and mask[:, 5:].all()
    # a perfect predictor scores 1.0, a wrong one 0.0
    perfect = torch.nn.functional.one_hot(y.clamp(min=0), 8).float()
    assert answer_accuracy(perfect, y) == 1.0
    assert answer_accuracy(perfect.roll(1, dims=-1), y) == 0.0


def test_lm_helpers_with_the_char_lstm():
    data = TextData.from_text("the cat sat on the mat. " * 40)
    torch.manual_seed(0)
    model = CharLSTM(data.tokenizer.vocab_size, n_embd=8, hidden=16)
    x, y = data.batch("train", batch_size=3, block_size=10)
    logits = model(x)
    assert logits.shape == (3, 10, data.tokenizer.vocab_size)
    ref = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y)
    assert torch.allclose(lm_loss(logits, y), ref)
    assert estimate_loss(model, data, block_size=10, batches=3) == estimate_loss(model, data, block_size=10, batches=3)
    start = data.tokenizer.encode("the").unsqueeze(0)
    a = generate(model, start, 20, generator=torch.Generator().manual_seed(0), top_k=5)
    b = generate(model, start, 20, generator=torch.Generator().manual_seed(0), top_k=5, block_size=8)
    assert a.shape == (1, 23) and torch.equal(a[:, :3], start)
    assert b.shape == (1, 23)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, start, 1, temperature=0)
