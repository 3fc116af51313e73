import torch
import torch.nn.functional as F
import pytest

from minigan import History, batches, evaluate, fit, supervised_step
from minigan.nn import MLP
from minigan.train import accuracy, fit_classifier


def test_fit_calls_step_logs_and_runs_callbacks_in_order():
    calls, ends = [], []

    class Recorder:
        def on_step(self, step, logs, history):
            calls.append(("obj", step, logs["loss"]))

        def on_end(self, history):
            ends.append(len(history["loss"]))

    def plain(step, logs, history):
        calls.append(("fn", step, len(history.steps)))

    hist = fit(lambda i: {"loss": 10.0 - i, "acc": torch.tensor(0.5)}, steps=4,
               callbacks=[Recorder(), plain], progress=False)
    assert hist["loss"] == [10.0, 9.0, 8.0, 7.0] and hist["acc"] == [0.5] * 4
    assert hist.steps == [0, 1, 2, 3]
    assert calls[:2] == [("obj", 0, 10.0), ("fn", 0, 1)]
    assert ends == [4]
    assert hist.last("loss") == 7.0 and hist.mean("loss", last=2) == 7.5


def test_a_callback_returning_true_stops_early_and_fit_can_continue():
    hist = fit(lambda i: {"loss": float(i)}, steps=100, progress=False,
               callbacks=[lambda step, logs, h: step == 9])
    assert hist.steps[-1] == 9
    hist = fit(lambda i: {"loss": float(i)}, steps=12, progress=False, history=hist, start=10)
    assert hist.steps == list(range(12))


def test_history_is_a_plain_dict_of_lists():
    h = History()
    h.append(0, {"a": 1})
    assert dict(h) == {"a": [1.0]}


def test_batches_cover_every_row_once_per_epoch_and_repeat_with_a_seed():
    x = torch.arange(10)
    it = batches(x, x * 2, batch_size=4, generator=torch.Generator().manual_seed(0))
    epoch = [next(it) for _ in range(3)]
    assert [len(b[0]) for b in epoch] == [4, 4, 2]
    assert sorted(torch.cat([b[0] for b in epoch]).tolist()) == list(range(10))
    assert all(torch.equal(b[1], b[0] * 2) for b in epoch)
    again = batches(x, x * 2, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(next(again)[0], epoch[0][0])
    with pytest.raises(ValueError, match="same first dimension"):
        next(batches(x, x[:3], batch_size=2))


def test_supervised_step_and_evaluate_learn_a_separable_problem():
    torch.manual_seed(0)
    x = torch.randn(256, 2)
    y = (x[:, 0] > 0).long()
    model = MLP(2, 2, hidden=8, depth=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    data = batches(x, y, batch_size=64, generator=torch.Generator().manual_seed(0))
    hist = fit(lambda i: supervised_step(model, opt, F.cross_entropy, *next(data)), steps=100, progress=False)
    assert hist["loss"][-1] < hist["loss"][0]
    assert evaluate(model, x, y, batch_size=100) > 0.95
    assert evaluate(model, x, y) == accuracy(model(x), y)
    assert model.training


def test_fit_classifier_is_repeatable_with_a_seed():
    x = torch.randn(128, 2, generator=torch.Generator().manual_seed(0))
    y = (x[:, 0] * x[:, 1] > 0).long()
    finals = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MLP(2, 2, hidden=16, depth=2)
        hist = fit_classifier(model, x, y, steps=50, seed=3, progress=False)
        finals.append(hist["loss"][-1])
    assert finals[0] == finals[1] and finals[0] < hist["loss"][0]
