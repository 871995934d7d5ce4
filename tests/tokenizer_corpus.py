"""Texts on which the tokenizer must equal the reference, id for id.

Shared by tests/test_wordpiece.py and tests/fixtures/make_fixtures.py, which
stores the reference's answers so the tests also run without transformers.
"""

import random

EDGE_CASES = [
    # English, and what the decoder's clean-up touches
    "A man is playing a guitar.", "Hello, World! How are you?", "don't, won't; it's the cat's toy...",
    "The U.S.A. and e.g. i.e. etc.", "state-of-the-art well-known co-operate", "\"quoted\" 'single' `back`",
    # the seed's Chinese sentences, and more CJK
    "这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", "我喜欢自然语言处理。你呢？",
    "日本語のテキストを分割する", "한국어 텍스트 토큰화", "中文English混合mixed文本",
    # accents: composed, combining, stacked, and marks whose order NFD fixes
    "café naïve résumé Ångström", "cafe\u0301 nai\u0308ve", "a\u0315\u0300b a\u0300\u0315b", "Ç\u0327\u0301",
    "Ärger Öl Übermut straße", "ﬁnancial ﬂow", "Ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３",
    # case mappings: final sigma, Turkish dotted/dotless i, newer letters
    "ΑΣ ΟΔΟΣ ΣΟΦΟΣ", "İstanbul ıi IİıI", "\u1c89\u1c8a \ua7cb \U00010d50",
    # emoji, including ZWJ sequences, skin tones and flags
    "😀👍🏽 emoji 👨‍👩‍👧 🇫🇷 ❤️", "I ❤ NY ☃",
    # control and zero-width characters, and the replacement character
    "ctrl\x00\x07\x1b\x7f\x85chars", "zero\u200bwidth\u200c\u200d\u2060\ufeffjoin", "bad\ufffdchar",
    "\u202eright-to-left override\u202c", "soft\u00adhyphen",
    # CJK extension planes, and the U+2B820..U+2B91F range the reference does not split
    "\U00020000\U0002a700\U0002b740\U0002b820\U0002b91f\U0002b920\U0002f800\U00030000",
    # newer punctuation, private use and unassigned code points
    "end\u061dmark \u2e43\u2e52 x\U0001f8b0y", "private\ue000\U000f0000use", "unassigned\u0378\U0001fffe",
    # URLs, e-mail, numbers
    "https://example.com/path?q=1&r=two#frag", "mail me at first.last@example.org",
    "3.14159 1,000,000 -42 1e-5 50% $9.99 ¥100 €5", "2026-11-27T18:15:00Z",
    # long words around the 100-character limit
    "x" * 99, "x" * 100, "x" * 101, "supercalifragilistic" * 6, "a " + "b" * 150 + " c",
    # special tokens written in the text
    "[CLS]", "hello [CLS] world [SEP] again", "a[SEP]b[MASK]c[PAD][UNK]", "[cls] [Sep] [unused0]",
    # whitespace variants, and nothing at all
    "", " ", "   \t\n\r  ", "tab\tnew\nline\rreturn", "nbsp\u00a0ideo\u3000ogham\u1680en\u2000",
    "line\u2028para\u2029sep", "vt\x0bff\x0cfs\x1cus\x1f", "  leading and trailing  ",
    # other scripts
    "Привет, мир! Ёлка", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "Γειά σου Κόσμε", "∑∫√∞ ≤≥ ±×÷", "« guillemets » „German“ —dash– …",
]

# (text, text_pair, max_length): longest-first truncation of pairs
PAIR_CASES = [
    ("A man is playing a guitar.", "A man plays the guitar.", None),
    ("a " * 10, "b " * 7, 6), ("a " * 10, "b " * 7, 12), ("a " * 10, "b " * 7, 15),
    ("a " * 10, "b " * 7, 19), ("a " * 7, "b " * 7, 6), ("a " * 7, "b " * 7, 9),
    ("a " * 7, "b " * 10, 8), ("a " * 7, "b " * 10, 14), ("", "b " * 5, 4),
    ("这是中国人民抗日战争纪念馆的简介", "北京大学的地理位置", 12),
    ("long " * 300, "short", 256), ("one", "two", 3),
]


def random_texts(n: int, seed: int = 0) -> list[str]:
    """Random strings drawn from every plane, weighted towards text-like code points."""
    rng = random.Random(seed)
    pools = [(32, 126), (0x80, 0x2FFF), (0x3000, 0xFFFF), (0x10000, 0x10FFFF), (0x300, 0x36F)]
    texts = []
    for _ in range(n):
        chars = []
        for _ in range(rng.randint(0, 40)):
            lo, hi = pools[rng.choices(range(5), weights=[5, 3, 3, 2, 1])[0]]
            cp = rng.randint(lo, hi)
            if not 0xD800 <= cp <= 0xDFFF:
                chars.append(chr(cp))
        texts.append("".join(chars))
    return texts
