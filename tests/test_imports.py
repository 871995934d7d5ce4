"""minisbert never imports the libraries it is measured against."""

import subprocess
import sys


def test_the_library_imports_none_of_the_reference_libraries(tmp_path):
    """Encode, train one step and save in a fresh process: transformers and sentence-transformers stay unloaded."""
    script = f"""
import sys
from minisbert import SentenceBert
from minisbert.trainkit.data import Example
from minisbert.losses import CosineSimilarityLoss
from minisbert.training import fit
model = SentenceBert.from_pretrained("all-MiniLM-L6-v2", device="cpu")
model.encode(["A man plays the guitar.", "Someone plays an instrument."])
fit(model, [Example(("a b", "c d"), 0.5)] * 2, CosineSimilarityLoss(), batch_size=2, output_dir={str(tmp_path)!r},
    show_progress=False)
model.save({str(tmp_path / "saved")!r})
loaded = sorted(m for m in ("transformers", "sentence_transformers", "tokenizers", "huggingface_hub", "sklearn",
                            "scipy") if m in sys.modules)
print("loaded:", loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "loaded: []"



def test_strict_mode_turns_a_missing_reference_library_into_a_failure(tmp_path):
    """With CI set, a test that needs an absent library fails and names it; without, it skips."""
    import os
    import shutil
    from pathlib import Path
    tests = Path(__file__).parent
    shutil.copy(tests / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_needs.py").write_text("from conftest import need\n\n\ndef test_it():\n"
                                             "    need('no_such_reference_library')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MINISBERT_STRICT")}
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", str(tmp_path)]
    relaxed = subprocess.run(run, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert relaxed.returncode == 0 and "1 skipped" in relaxed.stdout
    strict = subprocess.run(run, cwd=tmp_path, env={**env, "CI": "true"}, capture_output=True, text=True)
    assert strict.returncode == 1 and "no_such_reference_library is not installed" in strict.stdout
