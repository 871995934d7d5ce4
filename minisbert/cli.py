"""The command line: python -m minisbert COMMAND ... (see --help)."""

from __future__ import annotations

import argparse
import sys

from .hub import DEFAULT_MODEL


def _tokenize(args) -> int:
    from .tokenizer import WordPieceTokenizer
    tok = WordPieceTokenizer.from_pretrained(args.model)
    for text in args.texts:
        ids = tok.encode(text)
        print(text)
        print("  tokens:", " ".join(tok.convert_ids_to_tokens(ids)))
        print("  ids:   ", " ".join(map(str, ids)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minisbert",
        description="minisbert: a from-scratch Sentence-BERT. Every command runs offline on "
                    f"the bundled model ({DEFAULT_MODEL}) unless --model names another.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("tokenize", help="show the WordPiece tokens and ids of texts",
                       description="Print each text's WordPiece tokens and ids, [CLS] and [SEP] included.")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name or folder (default: %(default)s)")
    p.set_defaults(run=_tokenize)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import MinisbertError
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (MinisbertError, FileNotFoundError, ValueError, TypeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
