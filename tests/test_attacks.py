"""Attacks on the autograder by a student who has not seen its implementation (issue #29).

tests/fixtures/attacks.json lists them: each names an assignment, the file that holds its blocks, the code of
each of that assignment's blocks in that file (indented as it must be inside its function), the idea in one line,
and what the grader must give it: "zero" for an attack (the student did not write the concept) and "full" for an
honest variant (a correct solution written differently from the library's). An attack may also say "why": a piece
of the message the grader must give (the rule it broke), and "limit_s": the time limit to grade it with (for an
attack that never returns, so that the test does not wait for the grader's default limit).

One student edition (no solutions) is written per test session. The attacks are graded in rounds: a round is one
copy of the edition holding at most one attack per file (two attacks in one file would overwrite each other's
blocks) and one grader call over the assignments they attack; each assignment is graded on its own, with the
other assignments' code replaced by references, so attacks on different files cannot interfere. A round is graded
when its first test asks for it, so `-k NAME` grades only NAME's round.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from minisbert.course.assignments import ASSIGNMENTS, Block, fill_blocks, parse_blocks
from minisbert.course.edition import make_student_edition
from minisbert.course.grader import grade

REPO = Path(__file__).resolve().parent.parent
ATTACKS = json.loads((REPO / "tests" / "fixtures" / "attacks.json").read_text(encoding="utf-8"))
BY_NAME = {a["name"]: a for a in ATTACKS}


def rounds(attacks: list[dict]) -> list[list[dict]]:
    """The attacks grouped into gradings: at most one attack per file in a round, and an attack with a time limit
    of its own alone in its round (its limit would otherwise apply to the others)."""
    grouped: list[list[dict]] = []
    for attack in attacks:
        fits = [r for r in grouped if "limit_s" not in attack and all(
            "limit_s" not in other and other["file"] != attack["file"] for other in r)]
        if fits:
            fits[0].append(attack)
        else:
            grouped.append([attack])
    return grouped


ROUND_OF = {a["name"]: i for i, r in enumerate(rounds(ATTACKS)) for a in r}


def paste(edition: Path, attack: dict) -> None:
    """Put the attack's blocks between the markers of its assignment in its file; the file's other blocks keep
    the edition's stub."""
    path = edition / attack["file"]
    source = path.read_text(encoding="utf-8")
    names = [p.name for p in parse_blocks(source, attack["file"]) if isinstance(p, Block)]
    codes = iter(attack["blocks"])
    bodies = [next(codes).splitlines(keepends=True) if name == attack["assignment"] else None for name in names]
    path.write_text(fill_blocks(source, bodies, attack["file"]), encoding="utf-8")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """name -> the grader's Result for that attack's assignment, grading each round once, when first needed."""
    edition = tmp_path_factory.mktemp("attacks") / "edition"
    make_student_edition(edition, REPO, keep_solutions=False)
    results: dict[str, object] = {}

    def result(name: str):
        if name not in results:
            index = ROUND_OF[name]
            attacks = rounds(ATTACKS)[index]
            copy = edition.parent / f"round{index}"
            shutil.copytree(edition, copy)
            for attack in attacks:
                paste(copy, attack)
            limit = {"timeout": attacks[0]["limit_s"]} if "limit_s" in attacks[0] else {}
            by_assignment = {r.name: r for r in grade(copy, REPO, [a["assignment"] for a in attacks], **limit)}
            results.update({a["name"]: by_assignment[a["assignment"]] for a in attacks})
        return results[name]

    return result


def test_the_fixture_is_well_formed():
    """Names unique; each entry's assignment known, its file holding exactly that many blocks of it; each block
    made of whole lines that start indented; at least 12 attacks on at least 5 assignments and 3 honest variants."""
    assert len(BY_NAME) == len(ATTACKS), "two attacks share a name"
    for a in ATTACKS:
        assert a["assignment"] in ASSIGNMENTS, f"{a['name']}: unknown assignment {a['assignment']!r}"
        assert a["expect"] in ("zero", "full"), f"{a['name']}: expect is {a['expect']!r}, not 'zero' or 'full'"
        assert a["idea"].strip(), f"{a['name']}: no idea given"
        held = [p.name for p in parse_blocks((REPO / a["file"]).read_text(encoding="utf-8"), a["file"])
                if isinstance(p, Block)].count(a["assignment"])
        assert len(a["blocks"]) == held, f"{a['name']}: {len(a['blocks'])} blocks, {a['file']} holds {held}"
        for code in a["blocks"]:
            assert code.startswith("    ") and code.endswith("\n"), f"{a['name']}: a block must be indented lines"
    attacks = [a for a in ATTACKS if a["expect"] == "zero"]
    assert len(attacks) >= 12 and len({a["assignment"] for a in attacks}) >= 5
    assert sum(a["expect"] == "full" for a in ATTACKS) >= 3


def test_rounds_put_each_file_once():
    """Every attack is in exactly one round; no round holds two attacks on one file or a limited attack with
    another."""
    grouped = rounds(ATTACKS)
    assert sorted(a["name"] for r in grouped for a in r) == sorted(BY_NAME)
    for r in grouped:
        assert len({a["file"] for a in r}) == len(r)
        assert len(r) == 1 or not any("limit_s" in a for a in r)


@pytest.mark.parametrize("name", [a["name"] for a in ATTACKS if a["expect"] == "zero"])
def test_attack_scores_zero(graded, name):
    attack, result = BY_NAME[name], graded(name)
    assert result.earned == 0, (f"{name} ({attack['idea']}) scored {result.earned}/{result.points} on "
                                f"{attack['assignment']}: {result.message}")
    assert result.message and result.message != "all checks passed"
    if "why" in attack:
        assert attack["why"] in result.message, f"{name}: the message does not name {attack['why']!r}: {result.message}"


@pytest.mark.parametrize("name", [a["name"] for a in ATTACKS if a["expect"] == "full"])
def test_honest_variant_keeps_full_points(graded, name):
    attack, result = BY_NAME[name], graded(name)
    assert result.earned == result.points, (f"{name} ({attack['idea']}) scored {result.earned}/{result.points} on "
                                            f"{attack['assignment']}: {result.message}")
