"""The training loop: it learns, it is deterministic, and an interrupted run resumes exactly."""

import json
from contextlib import nullcontext

import pytest
import torch

from conftest import FIXTURES
from minisbert import SentenceBert
from minisbert.trainkit.data import Example, pairs_to_examples, read_pairs
from minisbert.evaluation import STSEvaluator
from minisbert.losses import CoSENTLoss, CosineSimilarityLoss, MultipleNegativesRankingLoss
from minisbert.support.errors import TrainingError
from minisbert.training import TrainConfig, fit, linear_schedule, make_optimizer

PAIRS = read_pairs(FIXTURES.parent.parent / "lessons" / "data" / "sts_pairs_en.csv")
EXAMPLES = pairs_to_examples(PAIRS, max_score=5.0)


def tiny():
    """The tiny random BERT saved by sentence-transformers: fast enough to train in a test."""
    return SentenceBert.from_pretrained(FIXTURES / "tiny_sbert", device="cpu")


def train(out, **kw):
    model = tiny()
    args = dict(epochs=3, batch_size=8, lr=1e-3, output_dir=out, show_progress=False)
    args.update(kw)
    return model, fit(model, EXAMPLES, CosineSimilarityLoss(), **args)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_a_short_run_improves_the_metric(tmp_path):
    evaluator = STSEvaluator(PAIRS)
    before = evaluator(tiny())["spearman"]
    model, history = train(tmp_path, evaluator=evaluator)
    after = evaluator(model)["spearman"]
    assert after > before + 20, (before, after)  # the random model starts near 0
    saved = SentenceBert.from_pretrained(tmp_path / "model", device="cpu")
    assert evaluator(saved)["spearman"] == pytest.approx(max(h["spearman"] for h in history if "spearman" in h))
    for name in ("history.json", "history.csv", "training.png", "checkpoint/state.pt"):
        assert (tmp_path / name).is_file()
    rows = json.loads((tmp_path / "history.json").read_text())
    assert rows[-1]["step"] == 3 * 8 and any("loss" in r for r in rows)


def test_same_seed_same_weights_on_cpu(tmp_path):
    a, _ = train(tmp_path / "a", seed=3)
    b, _ = train(tmp_path / "b", seed=3)
    c, _ = train(tmp_path / "c", seed=4)
    wa, wb, wc = weights(a), weights(b), weights(c)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


@pytest.mark.parametrize("stop", [5, 8, 13])  # mid-epoch, at an epoch's end, in the last epoch
def test_interrupted_and_resumed_run_ends_with_the_same_weights(tmp_path, stop):
    full, _ = train(tmp_path / "full", checkpoint_steps=1)
    train(tmp_path / "cut", checkpoint_steps=1, stop_after_steps=stop)  # the "crash"
    resumed, history = train(tmp_path / "cut", checkpoint_steps=1)  # a fresh process picks it up
    wf, wr = weights(full), weights(resumed)
    assert all(torch.equal(wf[k], wr[k]) for k in wf), f"weights differ after resuming at step {stop}"
    assert history[-1]["step"] == 24


def test_nan_loss_stops_with_a_message_and_keeps_the_checkpoint(tmp_path):
    class Exploding(CosineSimilarityLoss):
        calls = 0

        def forward(self, embeddings, labels):
            Exploding.calls += 1
            value = super().forward(embeddings, labels)
            return value * float("nan") if Exploding.calls > 8 else value

    with pytest.raises(TrainingError, match="loss became nan at step 9.*last good checkpoint"):
        fit(tiny(), EXAMPLES, Exploding(), epochs=2, batch_size=8, output_dir=tmp_path, show_progress=False)
    assert torch.load(tmp_path / "checkpoint" / "state.pt", weights_only=False)["step"] == 8


def test_bad_examples_are_named_before_training(tmp_path):
    with pytest.raises(TrainingError, match=r"train_data\[1\] has 3 texts, the first example has 2"):
        fit(tiny(), [Example(("a", "b")), Example(("a", "b", "c"))], MultipleNegativesRankingLoss(),
            output_dir=tmp_path)
    with pytest.raises(TrainingError, match=r"train_data\[0\] must be an Example"):
        fit(tiny(), [("a", "b")], MultipleNegativesRankingLoss(), output_dir=tmp_path)


def test_warmup_then_linear_decay():
    f = linear_schedule(warmup=4, total=14)
    assert [round(f(s), 3) for s in (0, 3, 4, 9, 14)] == [0.2, 0.8, 1.0, 0.5, 0.0]


def test_the_fused_optimizer_takes_the_steps_of_the_plain_adamw_loop():
    torch.manual_seed(0)
    params = [torch.randn(50, 8, requires_grad=True), torch.randn(8, requires_grad=True)]
    twins = [p.detach().clone().requires_grad_() for p in params]
    start = [p.detach().clone() for p in params]
    groups = [{"params": params[:1], "weight_decay": 0.01}, {"params": params[1:], "weight_decay": 0.0}]
    fused = make_optimizer(groups, 1e-2, torch.device("cpu"))
    assert fused.defaults["fused"]
    plain = torch.optim.AdamW([{"params": twins[:1], "weight_decay": 0.01}, {"params": twins[1:], "weight_decay": 0.0}],
                              lr=1e-2, foreach=False)
    for step in range(5):
        grads = [torch.randn_like(p) for p in params]
        for opt, ps in ((fused, params), (plain, twins)):
            for p, g in zip(ps, grads):
                p.grad = g.clone()
            opt.step()
    for p, q, p0 in zip(params, twins, start):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-6)
        assert (p - p0).abs().max() > 1e-3  # they moved


def test_vocabulary_extension_trains_and_saves(tmp_path):
    model = tiny()
    added = model.extend_vocabulary(texts=["中文句子"])
    assert added == ["中", "文", "句", "子"] and len(model.tokenizer) == 99 + 4
    before = model.bert.embeddings.extra_word_embeddings.detach().clone()
    fit(model, [Example(("中文", "句子"), 1.0)] * 8, CosineSimilarityLoss(), epochs=1, batch_size=4,
        lr=1e-4, new_token_lr=1e-2, warmup_ratio=0.0, output_dir=tmp_path, show_progress=False)
    moved = (model.bert.embeddings.extra_word_embeddings - before).norm()
    assert moved > 1e-3  # the new rows learned at their own rate
    again = SentenceBert.from_pretrained(tmp_path / "model", device="cpu")
    assert again.tokenizer.tokenize("中文") == ["中", "文"]
    torch.testing.assert_close(again.encode("中文", convert_to="torch"), model.encode("中文", convert_to="torch"))


def test_the_history_plot_leaves_the_callers_backend_alone(tmp_path):
    """A notebook's inline backend must survive fit(): switching it to Agg hid every later plot."""
    import matplotlib

    from minisbert.support.plots import plot_history
    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        plot_history([{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25, "spearman": 80.0}], tmp_path / "t.png")
        assert matplotlib.get_backend() == "svg"
        assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        matplotlib.use(before)


# -- resuming safely ------------------------------------------------------------------------------

def test_a_resume_with_changed_data_or_learning_rate_is_refused(tmp_path):
    train(tmp_path, epochs=2, stop_after_steps=3, checkpoint_steps=1)
    with pytest.raises(TrainingError, match=r"different run.*lr: 0\.001 then, 0\.0005 now.*new output folder"):
        train(tmp_path, epochs=2, lr=5e-4)
    with pytest.raises(TrainingError, match=r"different run.*the training data"):
        fit(tiny(), EXAMPLES[:-1], CosineSimilarityLoss(), epochs=2, batch_size=8, lr=1e-3, output_dir=tmp_path,
            show_progress=False)
    model, _ = train(tmp_path, epochs=2, lr=5e-4, resume=False)  # starting afresh is allowed, and says so
    assert json.loads((tmp_path / "history.json").read_text())[-1]["step"] == 2 * 8


class Payload:
    """What an attacker would pickle: loading it calls print (it could call anything)."""
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_state_holding_pickled_code_is_refused(tmp_path, capsys):
    (tmp_path / "checkpoint").mkdir()
    torch.save({"fingerprint": {}, "step": 1, "hook": Payload()}, tmp_path / "checkpoint" / "state.pt")
    with pytest.raises(TrainingError, match="could run code.*not loaded"):
        train(tmp_path)
    assert "pwned" not in capsys.readouterr().out


def test_options_come_as_a_config_or_by_name_and_unknown_ones_are_refused(tmp_path):
    a, _ = train(tmp_path / "a", config=None, epochs=1)
    b_model = tiny()
    fit(b_model, EXAMPLES, CosineSimilarityLoss(), TrainConfig(epochs=1, batch_size=8, lr=1e-3, show_progress=False),
        output_dir=tmp_path / "b")
    assert all(torch.equal(v, b_model.state_dict()[k]) for k, v in a.state_dict().items())
    with pytest.raises(TypeError, match=r"unknown options \['amp'\].*precision"):
        train(tmp_path / "c", amp="bf16")


# A changed value of each hyper-parameter that a resumed run must share (TrainConfig.TRAJECTORY).
CHANGED = {"epochs": 3, "batch_size": 4, "lr": 5e-4, "warmup_ratio": 0.2, "weight_decay": 0.1, "max_grad_norm": 0.5,
           "seed": 1, "precision": "bf16", "new_token_lr": 1e-2, "no_duplicates": True}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_resume_with_any_changed_hyper_parameter_is_refused(tmp_path, field):
    assert set(CHANGED) == set(TrainConfig.TRAJECTORY)  # a new hyper-parameter gets its case here
    train(tmp_path, epochs=2, stop_after_steps=1, checkpoint_steps=1)
    from minisbert.fast.precision import bf16_supported
    emulated = field == "precision" and not bf16_supported(torch.device("cpu"))  # warns: float32 instead
    with pytest.warns(UserWarning) if emulated else nullcontext(), \
            pytest.raises(TrainingError, match=rf"different run.*{field}: .* then, .* now"):
        train(tmp_path, **{"epochs": 2, field: CHANGED[field]})


@pytest.mark.parametrize("loss", [MultipleNegativesRankingLoss(), CosineSimilarityLoss(), CoSENTLoss(scale=10.0)],
                         ids=["MNRL", "cosine", "CoSENT with another scale"])
def test_a_resume_with_a_changed_loss_is_refused(tmp_path, loss):
    fit(tiny(), EXAMPLES, CoSENTLoss(scale=20.0), epochs=2, batch_size=8, lr=1e-3, output_dir=tmp_path,
        show_progress=False, stop_after_steps=1, checkpoint_steps=1)
    with pytest.raises(TrainingError, match=r"different run.*loss: \"CoSENTLoss\[.*\('scale', 20\.0\).*\]\" then"):
        fit(tiny(), EXAMPLES, loss, epochs=2, batch_size=8, lr=1e-3, output_dir=tmp_path, show_progress=False)


def test_fit_in_bf16_follows_float32(tmp_path, monkeypatch):
    """precision="bf16" runs the forward pass under autocast (emulated bf16 where the CPU lacks it, which changes
    the speed, not the numbers): the losses and every parameter's update follow the float32 run's."""
    from minisbert.fast import precision
    monkeypatch.setattr(precision, "bf16_supported", lambda device: True)
    options = dict(epochs=1, batch_size=8, lr=1e-3, show_progress=False, stop_after_steps=4, log_steps=1)
    start = weights(tiny())
    runs = {}
    for name in ("fp32", "bf16"):
        model, products = tiny(), []
        model.bert.encoder.layer[0].attention.self.query.register_forward_hook(
            lambda m, args, out: products.append(out.dtype))
        history = fit(model, EXAMPLES, CosineSimilarityLoss(), precision=name, output_dir=tmp_path / name, **options)
        runs[name] = ([h["loss"] for h in history], weights(model), set(products))
    (want_losses, want, want_types), (losses, got, types) = runs["fp32"], runs["bf16"]
    assert want_types == {torch.float32} and types == {torch.bfloat16}  # the context was in force
    assert len(losses) == 4 and losses == pytest.approx(want_losses, rel=2e-2)
    for name in want:
        update, want_update = (got[name] - start[name]).flatten().double(), (want[name] - start[name]).flatten().double()
        if want_update.norm() > 1e-6:
            cosine = torch.nn.functional.cosine_similarity(update, want_update, dim=0).item()
            assert cosine > 0.9, f"{name}: the bf16 update points elsewhere (cosine {cosine:.3f})"
