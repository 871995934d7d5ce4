"""Fine-tuning results on real data, minisbert beside sentence-transformers.

Experiments (each reads ../shared/data, skips with a message where it is absent,
never trains on a test split, and writes benchmarks/results/EXPERIMENT.json):

  sts         the SBERT paper's STS recipe on all-MiniLM-L6-v2: CosineSimilarityLoss,
              batch 16, 4 epochs, lr 2e-5, 10 % warm-up, trained on sts-train, evaluated on
              sts-dev and sts-test after every epoch; the same recipe with
              sentence-transformers in the same run; steps per second of both.
  objectives  the same data and schedule with CoSENT and MultipleNegativesRankingLoss
              (pairs scored >= 4 as positives); chosen on sts-dev.
  nli         SoftmaxLoss on snli/dev.txt (1 epoch); classifier accuracy on snli/test.txt
              and what it does to STS-B test.
  chinese     stsb-zh: the model as it is; cosine fine-tuning (2 epochs); vocabulary
              extension + fine-tuning; multilingual distillation from the English
              teacher (1 epoch) + extension + fine-tuning.
  chinese_e5  stsb-zh with multilingual-e5-small (its "query: " prompt): the model as it is,
              then CosineSimilarityLoss and CoSENT (3 epochs each, the word-embedding matrix
              frozen: 96 of its 118 million parameters, most rows never seen in Chinese STS),
              the run and epoch chosen on stsb-zh dev; the test score of that choice is the result.
  recipes     the search for a recipe that beats SBERT-NLI-STSb-large (86.10 on STS-B test),
              chosen on sts-dev only: cosine + CoSENT summed, and the paper's two-stage
              recipe (in-batch negatives on SNLI dev entailments with contradictions as hard
              negatives, then the cosine recipe); compared with the runs of `sts` and
              `objectives` by their final dev score; the test score of the dev winner is the
              result.
  learning_rates  the cosine recipe at lr 5e-5 and 1e-4, added to the same dev choice.
  speed       training steps per second, minisbert (fast path, written-out path, bf16 autocast) and
              sentence-transformers taking turns on shuffled STS-B train batches of 16
              (cosine recipe, no evaluation), 2 rounds of 100 steps each; on CUDA also
              fp16 (minisbert's autocast with loss scaling, sentence-transformers' fp16=True).

--device (default cpu) is where both libraries train, sentence-transformers' Trainer included.

    python benchmarks/train_results.py sts [objectives nli chinese recipes learning_rates speed] [--device cuda]
"""

import argparse
import json
import time

import torch
from common import RESULTS, SHARED_DATA, print_table, provenance

from minisbert import SentenceBert, resolve_model
from minisbert.trainkit.data import Example, pairs_to_examples, read_nli, read_pairs
from minisbert.evaluation import STSEvaluator
from minisbert.losses import CoSENTLoss, CosineSimilarityLoss, MSELoss, MultipleNegativesRankingLoss, SoftmaxLoss
from minisbert.training import fit

STS, ZH, SNLI = SHARED_DATA / "stsbenchmark", SHARED_DATA / "stsb-zh", SHARED_DATA / "snli"
QUICK = None  # --quick: this many training pairs and a tenth as many evaluation pairs, for a smoke test
DEVICE = "cpu"  # --device: where minisbert and sentence-transformers train


def pairs(path, reader=read_pairs, evaluation=False):
    rows = reader(path)
    return rows if QUICK is None else rows[:QUICK // 10 if evaluation else QUICK]


RECIPE = dict(batch_size=16, lr=2e-5, warmup_ratio=0.1, weight_decay=0.01, max_grad_norm=1.0, seed=0)


def fresh(fast=True):
    return SentenceBert.from_pretrained("all-MiniLM-L6-v2", device=DEVICE, fast=fast)


def sync():
    """Wait for the GPU's queued work before the clock is read (a no-op on the CPU)."""
    if torch.device(DEVICE).type == "cuda":
        torch.cuda.synchronize()


def run_minisbert(name, model, examples, loss, epochs, evaluators, **kw):
    """fit() with every evaluator run after each epoch; returns per-epoch scores and steps/s."""
    class Each:
        primary = "dev"

        def __call__(self, m):
            return {k: ev(m)["spearman"] for k, ev in evaluators.items()}
    start = time.perf_counter()
    history = fit(model, examples, loss, epochs=epochs, evaluator=Each(), output_dir=RESULTS / "runs" / name,
                  resume=False, **{**RECIPE, **kw})
    seconds = time.perf_counter() - start  # per-epoch evaluation included, as for sentence-transformers
    epochs_rows = [h for h in history if "dev" in h]
    return {"epochs": [{k: round(v, 2) for k, v in h.items() if k != "step"} for h in epochs_rows],
            "steps": epochs_rows[-1]["step"], "seconds": round(seconds, 1)}


def st_recipe(train_pairs, dev, test, epochs):
    """The same recipe with sentence-transformers' own trainer."""
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, SequentialEvaluator
    model = SentenceTransformer(str(resolve_model()), device=DEVICE)
    data = Dataset.from_dict({"sentence1": [p.sentence1 for p in train_pairs],
                              "sentence2": [p.sentence2 for p in train_pairs],
                              "score": [p.score / 5 for p in train_pairs]})

    def ev(pairs, name):
        return EmbeddingSimilarityEvaluator([p.sentence1 for p in pairs], [p.sentence2 for p in pairs],
                                            [p.score / 5 for p in pairs], name=name)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(RESULTS / "runs" / "st"), num_train_epochs=epochs, per_device_train_batch_size=16,
        learning_rate=2e-5, warmup_ratio=0.1, weight_decay=0.01, max_grad_norm=1.0, seed=0,
        eval_strategy="epoch", save_strategy="no", report_to="none", logging_steps=50, disable_tqdm=True,
        use_cpu=DEVICE == "cpu")
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                         loss=losses.CosineSimilarityLoss(model),
                                         evaluator=SequentialEvaluator([ev(dev, "dev"), ev(test, "test")]))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    rows = [h for h in trainer.state.log_history if "eval_dev_spearman_cosine" in h]
    return {"epochs": [{"epoch": round(h["epoch"], 2), "dev": round(100 * h["eval_dev_spearman_cosine"], 2),
                        "test": round(100 * h["eval_test_spearman_cosine"], 2)} for h in rows],
            "steps": trainer.state.global_step, "seconds": round(seconds, 1)}


def sts_data():
    return pairs(STS / "sts-train.csv"), pairs(STS / "sts-dev.csv", evaluation=True), \
        pairs(STS / "sts-test.csv", evaluation=True)


def dev_and_test(dev, test):
    """The two evaluators every experiment runs after each epoch: dev chooses, test reports."""
    return {"dev": STSEvaluator(dev), "test": STSEvaluator(test)}


def exp_sts(epochs=4):
    train, dev, test = sts_data()
    evaluators = dev_and_test(dev, test)
    ours = run_minisbert("sts-cosine", fresh(), pairs_to_examples(train, 5.0), CosineSimilarityLoss(), epochs,
                         evaluators)
    theirs = st_recipe(train, dev, test, epochs)
    rows = []
    for name, r in (("minisbert", ours), ("sentence-transformers", theirs)):
        rows.append([name] + [f"{e['test']:.2f}" for e in r["epochs"]] + [f"{r['steps'] / r['seconds']:.2f}"])
    print_table("STS-B test Spearman after each epoch (cosine recipe); steps/s include per-epoch evaluation",
                ["library"] + [f"epoch {i + 1}" for i in range(epochs)] + ["steps/s"], rows)
    return {"minisbert": ours, "sentence-transformers": theirs}


def exp_objectives(epochs=4):
    train, dev, test = sts_data()
    evaluators = dev_and_test(dev, test)
    positives = [Example((p.sentence1, p.sentence2)) for p in train if p.score >= 4]
    out = {"cosent": run_minisbert("sts-cosent", fresh(), pairs_to_examples(train), CoSENTLoss(), epochs, evaluators),
           "mnrl": run_minisbert("sts-mnrl", fresh(), positives, MultipleNegativesRankingLoss(), epochs, evaluators)}
    rows = [[k, len(positives) if k == "mnrl" else len(train)] + [f"{e['dev']:.2f} / {e['test']:.2f}" for e in r["epochs"]]
            for k, r in out.items()]
    print_table("dev / test Spearman after each epoch", ["objective", "pairs"] +
                [f"epoch {i + 1}" for i in range(epochs)], rows)
    return out


class SumLoss(torch.nn.Module):
    """The sum of several objectives on the same batch (here: cosine regression + CoSENT ranking)."""

    def __init__(self, *losses):
        super().__init__()
        self.parts = torch.nn.ModuleList(losses)

    def forward(self, embeddings, labels):
        return sum(part(embeddings, labels) for part in self.parts)


def nli_triplets(path):
    """(premise, entailed hypothesis, contradicting hypothesis) for every premise that has both."""
    by_premise = {}
    for p in pairs(path, read_nli):
        by_premise.setdefault(p.sentence1, {}).setdefault(int(p.score), p.sentence2)
    return [Example((a, h[0], h[2])) for a, h in by_premise.items() if 0 in h and 2 in h]


def exp_recipes(epochs=4):
    train, dev, test = sts_data()
    evaluators = dev_and_test(dev, test)
    out = {"cosine + cosent": run_minisbert("sts-cosine-cosent", fresh(), pairs_to_examples(train, 5.0),
                                            SumLoss(CosineSimilarityLoss(), CoSENTLoss()), epochs, evaluators)}
    model, triplets = fresh(), nli_triplets(SNLI / "dev.txt")
    out["snli mnrl"] = run_minisbert("snli-mnrl", model, triplets, MultipleNegativesRankingLoss(), 1, evaluators,
                                     batch_size=64)
    out["snli mnrl"]["train_triplets"] = len(triplets)
    out["snli mnrl, then cosine"] = run_minisbert("snli-then-cosine", model, pairs_to_examples(train, 5.0),
                                                  CosineSimilarityLoss(), epochs, evaluators)
    out["chosen"] = choose_on_dev(out, epochs)
    return out


def exp_learning_rates(epochs=4, rates=(5e-5, 1e-4)):
    """The cosine recipe at larger learning rates, added to the recipes chosen on dev."""
    train, dev, test = sts_data()
    evaluators = dev_and_test(dev, test)
    out = {f"cosine, lr {lr:g}": run_minisbert(f"sts-cosine-lr{lr:g}", fresh(), pairs_to_examples(train, 5.0),
                                               CosineSimilarityLoss(), epochs, evaluators, lr=lr)
           for lr in rates}
    out["chosen"] = choose_on_dev(out, epochs)
    return out


def choose_on_dev(new: dict, epochs: int) -> dict:
    """Every recipe run so far (this experiment's and the saved ones); the winner by final sts-dev alone."""
    candidates = {}
    for name, key in (("sts", "minisbert"), ("objectives", "cosent"), ("objectives", "mnrl")):
        f = RESULTS / f"{name}.json"
        if f.is_file():
            candidates["cosine" if key == "minisbert" else key] = json.loads(f.read_text())["result"][key]
    for name in ("recipes", "learning_rates"):
        f = RESULTS / f"{name}.json"
        if f.is_file():
            candidates.update(json.loads(f.read_text())["result"])
    candidates.update(new)
    final = {k: v["epochs"][-1] for k, v in candidates.items() if k not in ("chosen", "snli mnrl")}
    winner = max(final, key=lambda k: final[k]["dev"])
    rows = [[k + (" (chosen on dev)" if k == winner else ""), f"{v['dev']:.2f}", f"{v['test']:.2f}"]
            for k, v in final.items()]
    print_table(f"Recipes after {epochs} epochs on sts-train; the winner is chosen by sts-dev alone",
                ["recipe", "dev", "test"], rows)
    return {"recipe": winner, **final[winner]}


def exp_nli():
    train, test = pairs(SNLI / "dev.txt", read_nli), pairs(SNLI / "test.txt", read_nli, evaluation=True)
    model = fresh()
    loss = SoftmaxLoss(model.dimension, 3)
    sts_test = STSEvaluator(pairs(STS / "sts-test.csv", evaluation=True))
    before = sts_test(model)["spearman"]
    fit(model, [Example((p.sentence1, p.sentence2), int(p.score)) for p in train], loss, epochs=1,
        output_dir=RESULTS / "runs" / "nli", resume=False, **RECIPE)
    correct = 0
    with torch.inference_mode():
        for i in range(0, len(test), 64):
            chunk = test[i:i + 64]
            u = model.encode([p.sentence1 for p in chunk], convert_to="torch")
            v = model.encode([p.sentence2 for p in chunk], convert_to="torch")
            pred = loss.logits(u, v).argmax(1)
            correct += (pred == torch.tensor([int(p.score) for p in chunk])).sum().item()
    result = {"snli_test_accuracy": round(100 * correct / len(test), 2), "sts_test_before": round(before, 2),
              "sts_test_after": round(sts_test(model)["spearman"], 2), "train_pairs": len(train)}
    print_table("SoftmaxLoss on SNLI dev (1 epoch)", list(result), [list(result.values())])
    return result


def unk_share(model, sentences):
    tokens = [t for s in sentences for t in model.tokenizer.tokenize(s)]
    return round(100 * sum(t == model.tokenizer.unk_token for t in tokens) / len(tokens), 1)


def exp_chinese(epochs=2, new_token_lr=1e-3):
    train = pairs(ZH / "stsb-zh-train.csv")
    dev, test = (pairs(ZH / f"stsb-zh-{s}.csv", evaluation=True) for s in ("dev", "test"))
    evaluators = dev_and_test(dev, test)
    test_sentences = [s for p in test for s in (p.sentence1, p.sentence2)]
    train_sentences = [s for p in train for s in (p.sentence1, p.sentence2)]
    out = {}
    model = fresh()
    out["as is"] = {"test": round(evaluators["test"](model)["spearman"], 2), "unk %": unk_share(model, test_sentences)}
    out["fine-tuned"] = run_minisbert("zh-cosine", fresh(), pairs_to_examples(train, 5.0), CosineSimilarityLoss(),
                                      epochs, evaluators)
    model = fresh()
    added = model.extend_vocabulary(texts=train_sentences)
    share = unk_share(model, test_sentences)
    out["extended + fine-tuned"] = run_minisbert("zh-extend", model, pairs_to_examples(train, 5.0),
                                                 CosineSimilarityLoss(), epochs, evaluators, new_token_lr=new_token_lr)
    out["extended + fine-tuned"].update({"added": len(added), "unk %": share})
    # Distillation: the student's embedding of each Chinese (and English) train sentence should
    # equal the English teacher's embedding of the English original (rows are parallel).
    en = pairs(STS / "sts-train.csv")
    teacher = fresh()
    english = list(dict.fromkeys(s for p in en for s in (p.sentence1, p.sentence2)))
    target = dict(zip(english, teacher.encode(english)))
    parallel = dict.fromkeys((zh, e) for pz, pe in zip(train, en)
                             for zh, e in ((pz.sentence1, pe.sentence1), (pz.sentence2, pe.sentence2)))
    examples = [Example((zh,), target[e]) for zh, e in parallel] + [Example((e,), target[e]) for e in english]
    student = fresh()
    student.extend_vocabulary(texts=train_sentences)
    out["distilled"] = run_minisbert("zh-distil", student, examples, MSELoss(), 1, evaluators,
                                     new_token_lr=new_token_lr, batch_size=32)
    out["distilled + fine-tuned"] = run_minisbert("zh-distil-ft", student, pairs_to_examples(train, 5.0),
                                                  CosineSimilarityLoss(), epochs, evaluators, new_token_lr=new_token_lr)
    rows = [[k, v.get("unk %", ""), v["test"] if "test" in v else v["epochs"][-1]["test"]] for k, v in out.items()]
    print_table("stsb-zh test Spearman", ["model", "[UNK] % of test tokens", "test"], rows)
    return out


def exp_chinese_e5(epochs=3):
    train = pairs(ZH / "stsb-zh-train.csv")
    dev, test = (pairs(ZH / f"stsb-zh-{s}.csv", evaluation=True) for s in ("dev", "test"))
    evaluators = dev_and_test(dev, test)

    def e5():
        model = SentenceBert.from_pretrained("multilingual-e5-small", device=DEVICE)
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        return model
    model = e5()
    out = {"as is": {k: round(ev(model)["spearman"], 2) for k, ev in evaluators.items()}}
    for name, loss in (("cosine", CosineSimilarityLoss()), ("cosent", CoSENTLoss())):
        out[name] = run_minisbert(f"zh-e5-{name}", e5(), pairs_to_examples(train, 5.0), loss, epochs, evaluators)
    runs = [(e["dev"], name, e) for name in ("cosine", "cosent") for e in out[name]["epochs"]]
    dev_score, name, chosen = max(runs, key=lambda r: r[0])
    out["chosen on dev"] = {"run": name, "epoch": chosen["epoch"], "dev": dev_score, "test": chosen["test"]}
    rows = [["as is", "", out["as is"]["dev"], out["as is"]["test"]]]
    rows += [[name, e["epoch"], e["dev"], e["test"]] for _, name, e in runs]
    print_table("stsb-zh, multilingual-e5-small: Spearman x100 (the row with the best dev is the result)",
                ["run", "epoch", "dev", "test"], rows)
    return out


def exp_speed(steps=100, rounds=2):
    from datasets import Dataset
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from minisbert.fast.precision import bf16_supported
    train = pairs(STS / "sts-train.csv")
    data = Dataset.from_dict({"sentence1": [p.sentence1 for p in train], "sentence2": [p.sentence2 for p in train],
                              "score": [p.score / 5 for p in train]})

    def ours(fast=True, precision="fp32"):
        def run(r):
            model = fresh(fast)
            sync()
            start = time.perf_counter()
            fit(model, pairs_to_examples(train, 5.0), CosineSimilarityLoss(), epochs=4, stop_after_steps=steps,
                output_dir=RESULTS / "runs" / f"speed-{r}", resume=False, show_progress=False, precision=precision,
                **{**RECIPE, "seed": r})
            sync()
            return time.perf_counter() - start
        return run

    def theirs(precision="fp32"):
        def run(r):
            model = SentenceTransformer(str(resolve_model()), device=DEVICE)
            args = SentenceTransformerTrainingArguments(
                output_dir=str(RESULTS / "runs" / "st-speed"), max_steps=steps, per_device_train_batch_size=16,
                learning_rate=2e-5, seed=r, save_strategy="no", report_to="none", disable_tqdm=True,
                use_cpu=DEVICE == "cpu", fp16=precision == "fp16")
            trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                                 loss=losses.CosineSimilarityLoss(model))
            sync()
            start = time.perf_counter()
            trainer.train()
            sync()
            return time.perf_counter() - start
        return run

    device = torch.device(DEVICE)
    contestants = {"sentence-transformers": theirs(), "minisbert": ours(),
                   "minisbert, written-out path (fast=False)": ours(fast=False)}
    if bf16_supported(device):
        contestants["minisbert, bf16 autocast"] = ours(precision="bf16")
    if device.type == "cuda":
        contestants["sentence-transformers, fp16"] = theirs("fp16")
        contestants["minisbert, fp16 autocast"] = ours(precision="fp16")
    times = {name: [] for name in contestants}
    for r in range(rounds):  # taking turns, so that drift hits all alike
        for name, run in contestants.items():
            times[name].append(run(r))
    rates = {name: steps / min(t) for name, t in times.items()}
    base = rates["sentence-transformers"]
    result = {name: {"steps_per_s": round(v, 3), "vs_st": round(v / base, 2)} for name, v in rates.items()}
    where = f" on {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    print_table(f"Training steps/s{where} (batch 16, STS-B train, cosine loss, best of {rounds} rounds of {steps} "
                "steps, model loading excluded)", ["trainer", "steps/s", "vs ST"],
                [[k, v["steps_per_s"], v["vs_st"]] for k, v in result.items()])
    return result


EXPERIMENTS = {"speed": exp_speed, "sts": exp_sts, "objectives": exp_objectives, "nli": exp_nli, "chinese": exp_chinese,
               "chinese_e5": exp_chinese_e5, "recipes": exp_recipes, "learning_rates": exp_learning_rates}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("experiments", nargs="+", choices=list(EXPERIMENTS))
    ap.add_argument("--quick", type=int, metavar="N", help="smoke test: N training pairs only")
    ap.add_argument("--device", default="cpu", help="where both libraries train: cpu (default) or cuda")
    args = ap.parse_args()
    global QUICK, DEVICE
    QUICK, DEVICE = args.quick, args.device
    if not STS.is_dir():
        print(f"skipped: {SHARED_DATA} is absent (the shared benchmark data is not on this machine)")
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.experiments:
        result = EXPERIMENTS[name]()
        if QUICK is None:
            # command, commit, date and machine beside the result: what made every figure the README quotes
            (RESULTS / f"{name}.json").write_text(json.dumps({**provenance(), "result": result}, indent=1,
                                                              ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
