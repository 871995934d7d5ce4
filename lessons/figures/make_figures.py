"""Draw the lessons' diagrams into lessons/figures/ (PNG), with matplotlib only, in English and in Chinese.

    python lessons/figures/make_figures.py          # every figure, both languages
    python lessons/figures/make_figures.py qkv      # only the figures named

Each figure is written twice, the same drawing with its own label table per language:
lessons/figures/NAME.png (English) and lessons/figures/zh/NAME.png (Chinese; the font is Noto Sans CJK SC
from the mplfonts package of requirements-dev.txt). The drawings hold no randomness (the Q4_0 block's
weights come from a seeded generator), so running this again gives the same pictures.

- draw_tokens.py, lessons 01-02: wordpiece.png (greedy longest match on "unaffable" with the real
  vocabulary), embedding_sum.png (token + segment + position embeddings, then LayerNorm).
- draw_encoder.py, lessons 03-06: qkv.png (one query against every key, the padding key masked),
  head_split.png (04), pre_post_ln.png and post_ln_layer.png (05), encoder_stack.png and mlm_nsp.png (06).
- draw_sbert.py, lessons 07-10: pooling_mask.png, cosine_vs_dot.png, siamese.png (09),
  inbatch_negatives.png (09), rank_correlation.png (10).
- draw_multilingual.py, lessons 12, 13, B1: distillation.png, q4_0_block.png, gathered_negatives.png.
"""

import sys

import matplotlib.pyplot as plt

import draw_encoder
import draw_multilingual
import draw_sbert
import draw_tokens
from figlib import LANGS, style

FIGURES = draw_tokens.FIGURES + draw_encoder.FIGURES + draw_sbert.FIGURES + draw_multilingual.FIGURES


def main(names: list[str]) -> None:
    chosen = [f for f in FIGURES if not names or f.__name__ in names]
    unknown = set(names) - {f.__name__ for f in FIGURES}
    if unknown:
        raise SystemExit(f"no figure called {', '.join(sorted(unknown))}; "
                         f"the figures: {', '.join(f.__name__ for f in FIGURES)}")
    for lang in LANGS:
        with plt.rc_context(style(lang)):
            written = [f(lang) for f in chosen]
        print(f"{lang}: wrote {len(written)} figures into {written[0].parent}")


if __name__ == "__main__":
    main(sys.argv[1:])
