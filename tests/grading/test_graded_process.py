"""The graded process holds nothing worth taking and is trusted for nothing but the tensors asked for: what
its tree holds, what it can import, how it may end, what it may write, and the seed drawn at each grading.

Here rather than in tests/test_assignments.py because it is the grader's own machinery, with a stand-in
judge and probe; it stays with the instructor, as tests/grading/ does."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import torch

from minisbert.course.assignments import strip_solutions
from minisbert.course.grader import grade, judge_of, report
from minisbert.course.graded_tree import build_tree, student_library

ROOT = Path(__file__).resolve().parents[2]


def stubbed_copy(folder: Path) -> Path:
    """A student's copy that holds the library with every block a stub (the edition's minisbert/ alone)."""
    for path in (ROOT / "minisbert").rglob("*.py"):
        dest = folder / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(strip_solutions(path.read_text(encoding="utf-8"), str(path))[0], encoding="utf-8")
    return folder


# A stand-in judge of 'pooling' for the tests of the grader's machinery: two checks, 10 + 5 points.
FAKE_JUDGE = textwrap.dedent("""\
    import torch
    from minisbert.course.judge import check, diagnose, require

    @check(10, "pooled")
    def mean(seed, got):
        tokens = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(seed))
        diagnose(got("pooled"), tokens.mean(1), {})

    @check(5, "flags")
    def isolated(seed, got):
        flags = got("flags", torch.bool, (4,)).tolist()
        require(flags == [True] * 4, f"the graded process is not isolated: {flags}")
""")
# Its probe: the right answers (computed here, not by the student's code), then what MODE says.
FAKE_PROBE = textwrap.dedent("""\
    import os, signal, sys, tempfile, time
    from pathlib import Path
    import torch
    MODE = {mode!r}

    def mean(seed):
        tokens = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(seed))
        pooled = tokens.mean(1).double() if MODE == "dtype" else tokens.mean(1)
        return {{}} if MODE == "missing" else {{"pooled": pooled}}

    def isolated(seed):
        import minisbert, minisbert.pooling
        tree = Path(sys.argv[1])
        in_tree = Path(minisbert.__file__).is_relative_to(tree)
        try:
            minisbert.pooling.mean_pool(torch.ones(1, 2, 3), torch.ones(1, 2))
            stub = False
        except NotImplementedError:
            stub = True
        grading = sorted(p.name for p in (tree / "grading").iterdir())
        alone = grading == ["draws.py", "probe_pooling.py", "reference_attention.py"] \\
            and sorted(os.listdir(tree)) == ["grading", "minisbert"]
        sys.path[:] = [p for p in sys.path if not p.startswith(str(tree))]
        for name in [m for m in sys.modules if m.split(".")[0] == "minisbert"]:
            del sys.modules[name]
        try:
            import minisbert
            unreachable = Path(minisbert.__file__).is_relative_to(tree)  # else the instructor's installed one
        except ModuleNotFoundError:
            unreachable = True
        flags = {{"flags": torch.tensor([in_tree, stub, alone, unreachable])}}
        if MODE == "extra":
            flags["passed"] = torch.ones(1)
        if MODE == "daemon":  # a child that would outlive the probe, to write into a later grading
            marker = Path(tempfile.gettempdir(), f"minisbert-daemon-{{seed}}.pid")
            if os.fork() == 0:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                Path(str(marker) + '.tmp').write_text(str(os.getpid()))
                os.replace(str(marker) + '.tmp', marker)  # whole or absent: the parent waits for it
                time.sleep(600)
                os._exit(0)
            while not marker.exists():
                time.sleep(0.05)
        if MODE in ("kill", "exit", "sleep", "pickle"):
            from safetensors.torch import save_file
            save_file({{"mean.pooled": mean(seed)["pooled"], "isolated.flags": flags["flags"]}}, sys.argv[4])
            if MODE == "pickle":
                import pickle
                Path(sys.argv[4]).write_bytes(pickle.dumps(flags))
                os._exit(0)
            {{"kill": lambda: os.kill(os.getpid(), signal.SIGKILL), "exit": lambda: os._exit(3),
             "sleep": lambda: time.sleep(600)}}[MODE]()
        return flags
""")


def fake_instructor(folder: Path, mode: str) -> Path:
    """An instructor's checkout with this library, the fake judge and probe of 'pooling' and one reference."""
    shutil.copytree(ROOT / "minisbert", folder / "minisbert", ignore=shutil.ignore_patterns("__pycache__"))
    grading = folder / "tests" / "grading"
    grading.mkdir(parents=True)
    (grading / "judge_pooling.py").write_text(FAKE_JUDGE)
    (grading / "probe_pooling.py").write_text(FAKE_PROBE.format(mode=mode))
    shutil.copy(ROOT / "tests" / "grading" / "reference_attention.py", grading)
    shutil.copy(ROOT / "tests" / "grading" / "draws.py", grading)
    return folder


@pytest.mark.parametrize("mode, earned, message", [
    ("honest", 15, "all checks passed"),
    ("kill", 0, "ended with status -9 (killed, crashed or stopped): nothing it wrote counts"),
    ("exit", 0, "ended with status 3"),
    ("sleep", 0, "took longer than 20 s"),
    ("extra", 0, "wrote tensors nobody asked for (isolated.passed)"),
    ("pickle", 0, "outputs are not a safetensors file"),
    ("missing", 5, "the graded process wrote no 'pooled' for this check"),
    ("dtype", 5, "pooled has dtype torch.float64, expected torch.float32"),
])
def test_only_the_tensors_asked_for_from_a_process_that_ended_well_count(tmp_path, mode, earned, message):
    """The probe writes passing outputs, then ends abnormally, or writes something else than asked: the
    assignment (or, for one tensor, the check) scores 0, with the reason. The honest probe also shows that the
    graded process runs the stubs of the tree, whose grading folder holds only the probe and the other
    assignments' references, and that the instructor's installed minisbert cannot be imported from it."""
    instructor = fake_instructor(tmp_path / "instructor", mode)
    [result] = grade(stubbed_copy(tmp_path / "student"), instructor, ["pooling"], timeout=20)
    assert (result.earned, result.message) == (earned, message) if earned == 15 else \
        result.earned == earned and message in result.message, report([result])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX sessions")
def test_what_the_graded_process_started_ends_with_it(tmp_path):
    instructor = fake_instructor(tmp_path / "instructor", "daemon")
    [result] = grade(stubbed_copy(tmp_path / "student"), instructor, ["pooling"], timeout=60)
    assert result.earned == 15, report([result])
    pid_file = Path(tempfile.gettempdir(), f"minisbert-daemon-{result.seed}.pid")
    pid = int(pid_file.read_text())
    pid_file.unlink()
    status = Path(f"/proc/{pid}/status")
    for _ in range(50):  # SIGKILL is delivered asynchronously: on a loaded machine, allow it a moment
        if not status.exists() or "State:\tZ" in status.read_text():
            break
        time.sleep(0.1)
    assert not status.exists() or "State:\tZ" in status.read_text(), f"process {pid} outlived its grading"


def test_a_regular_install_of_the_library_is_unreachable_and_its_folder_still_serves(tmp_path):
    """An instructor who ran `pip install .` has minisbert (with the solutions) in site-packages, beside torch:
    the graded process must import minisbert from its tree, and still everything else from site-packages."""
    site = tmp_path / "site-packages"
    (site / "minisbert").mkdir(parents=True)
    (site / "minisbert" / "__init__.py").write_text("raise ImportError('the installed copy was imported')\n")
    (site / "otherlib").mkdir()
    (site / "otherlib" / "__init__.py").write_text("")
    script = textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        sys.path[:0] = [{str(ROOT)!r}]
        sys.path.append({str(site)!r})
        from minisbert.course.probe import _forget_other_libraries
        _forget_other_libraries(Path({str(ROOT)!r}))
        for name in [m for m in sys.modules if m.split(".")[0] == "minisbert"]:
            del sys.modules[name]
        import minisbert, otherlib
        for other in ("transformers", "sentence_transformers"):  # the references, never importable there
            try:
                __import__(other)
                raise SystemExit(other + " was importable")
            except ModuleNotFoundError:
                pass
        print(minisbert.__file__)
    """)
    done = subprocess.run([sys.executable, "-I", "-B", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(done.stdout.strip()) == ROOT / "minisbert" / "__init__.py"


def test_the_graded_tree_holds_nothing_of_the_grading(tmp_path):
    library, refused = student_library(ROOT, ROOT)
    assert refused == {}
    build_tree(tmp_path, "attention", ROOT, library)
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert {f for f in files if not f.startswith("minisbert/")} == {
        "grading/probe_attention.py", "grading/draws.py", "grading/reference_multihead.py", "grading/reference_encoder_layer.py",
        "grading/reference_embeddings.py", "grading/reference_pooling.py"}
    assert "minisbert/attention.py" in files and not any("__pycache__" in f for f in files)


def test_each_grading_draws_its_inputs_and_precomputed_answers_fail(tmp_path):
    """A cosine loss that returns the value precomputed for seed 0 earns its points when graded with seed 0,
    and loses them with the seeds the grader draws, which differ from grading to grading, and so do the inputs."""
    judge = judge_of(ROOT, "losses")  # its module holds the probe's input builder, pairs(seed)
    u, v, scores, *_ = judge.pairs(0)
    copy = tmp_path / "precomputed"
    shutil.copytree(ROOT / "minisbert", copy / "minisbert", ignore=shutil.ignore_patterns("__pycache__"))
    losses = copy / "minisbert" / "losses.py"
    solution = "return F.mse_loss(F.cosine_similarity(u, v), labels.float())"
    assert solution in losses.read_text()
    losses.write_text(losses.read_text().replace(
        solution, f"return torch.tensor({judge.cosine_mse(u, v, scores).item()!r})  # seed 0's answer"))
    [fixed] = grade(copy, ROOT, ["losses"], seeds={"losses": 0})
    assert fixed.earned == 15, report([fixed])
    first, second = grade(copy, ROOT, ["losses"]) + grade(copy, ROOT, ["losses"])
    assert len({0, first.seed, second.seed}) == 3
    assert not torch.equal(judge.pairs(first.seed)[0], judge.pairs(second.seed)[0])
    for drawn in (first, second):
        assert drawn.earned == 11 and [c.name for c in drawn.checks if not c.earned] == ["cosine_similarity_loss"]
        assert drawn.message.startswith("largest difference"), report([drawn])


def test_the_judges_definitions_give_the_lessons_reference_values(monkeypatch):
    """The judges compute the expected values themselves: at the lessons' inputs, theirs are the values that
    sentence-transformers and PyTorch's own modules gave (lessons/reference/)."""
    from minisbert.course.check import reference
    monkeypatch.setenv("MINISBERT_REFERENCE", str(ROOT / "lessons" / "reference"))
    losses = judge_of(ROOT, "losses")
    u, v, scores = reference("loss.u"), reference("loss.v"), reference("loss.scores")
    classifier = reference("loss.classifier.weight"), reference("loss.classifier.bias")
    for name, value in (("loss.cosine", losses.cosine_mse(u, v, scores)),
                        ("loss.softmax", losses.softmax_classification(u, v, reference("loss.labels").long(),
                                                                       *classifier)),
                        ("loss.mnrl", losses.ranking(u, v)), ("loss.cosent", losses.cosent(u, v, scores))):
        assert torch.allclose(value, reference(name), atol=1e-5), name
    attention = judge_of(ROOT, "attention")
    allowed = attention.allowed_keys(torch.tensor(reference("sdpa.attention_mask")))
    probs = attention.probabilities(reference("sdpa.q"), reference("sdpa.k"), allowed)
    assert torch.allclose(probs, reference("sdpa.probs"), atol=1e-5)
