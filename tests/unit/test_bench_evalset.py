"""bench/evalset.py on tiny synthetic inputs: trafilatura's scoring rule, and the copy's pin."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from bench import evalset
from bench.evalset_score import Confusion, Counts, author_right, count_item, norm, same_names

ITEM = {"with": ["must  be\nhere", "also this"], "without": ["Impressum", "Teilen"]}


def test_snippets_match_as_whitespace_normalized_substrings() -> None:
    assert norm(" a\t b\n\nc ") == "a b c"
    assert count_item(ITEM, "x must be   here y\nImpressum") == Counts(tp=1, fp=1, fn=1, tn=1)
    assert count_item(ITEM, "also this, must be here") == Counts(tp=2, fp=0, fn=0, tn=2)


def test_no_output_finds_nothing_and_keeps_every_unwanted_snippet_out() -> None:
    assert count_item(ITEM, None) == Counts(tp=0, fp=0, fn=2, tn=2)
    assert count_item(ITEM, "") == Counts(tp=0, fp=0, fn=2, tn=2)


def test_scores_are_computed_on_counts_summed_over_pages() -> None:
    total = Confusion()
    total.add(Counts(tp=3, fp=1, fn=0, tn=1))
    total.add(Counts(tp=0, fp=0, fn=2, tn=2))
    assert (total.precision, total.recall) == (0.75, 0.6)
    assert total.f1 == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))
    assert Confusion().f1 == 0.0 and Confusion().precision == 0.0


def test_authors_are_right_only_when_equal_to_the_label_character_for_character() -> None:
    assert author_right({"author": "Jane Doe"}, ["Jane Doe"])
    assert author_right({"author": "Jane Doe"}, "Jane Doe")
    assert author_right({"author": ["A B", "C D"]}, ["A B", "C D"])
    assert not author_right({"author": ["A B", "C D"]}, ["C D", "A B"])
    assert not author_right({"author": "Jane Doe "}, ["Jane Doe"])
    assert not author_right({"author": "jane doe"}, ["Jane Doe"])
    assert not author_right({"author": "Jane Doe"}, [])
    assert author_right({"author": ""}, ["Jane Doe"]) is None
    assert author_right({}, None) is None


def test_same_names_ignores_order_case_and_spacing_only() -> None:
    assert same_names({"author": ["A  B ", "c d"]}, ["C D", "a b"])
    assert not same_names({"author": "A B"}, ["A B", "C D"])
    assert same_names({}, ["A B"]) is None


def _snapshot(tmp_path: Path) -> tuple[Path, str, bytes]:
    """A git repository shaped like trafilatura's tests/: (git dir, commit, evaldata bytes)."""
    work = tmp_path / "repo"
    for name, body in {"eval/a.html": b"<p>a</p>", "cache/b.html": b"<p>b</p>"}.items():
        (work / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        (work / "tests" / name).write_bytes(body)
    (work / "tests" / "eval" / "unused.html").write_bytes(b"<p>not named</p>")
    data = {
        "https://a.example/x": {"file": "a.html", "with": ["a"], "without": ["z"]},
        "hard::b.html": {"file": "b.html", "with": ["b"], "without": ["z"], "author": "B"},
    }
    evaldata = json.dumps(data).encode()
    (work / "tests" / "evaldata.json").write_bytes(evaldata)
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t", "-c"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    subprocess.run([*git, "commit.gpgsign=false", "add", "-A"], check=True)
    subprocess.run([*git, "commit.gpgsign=false", "commit", "-qm", "corpus"], check=True)
    head = subprocess.run([*git[:3], "rev-parse", "HEAD"], check=True, capture_output=True)
    return work / ".git", head.stdout.decode().strip(), evaldata


@pytest.fixture
def snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A synthetic snapshot whose commit and JSON digest are the pinned ones."""
    git_dir, commit, evaldata = _snapshot(tmp_path)
    monkeypatch.setattr(evalset, "PINNED_COMMIT", commit)
    monkeypatch.setattr(evalset, "PINNED_EVALDATA_SHA256", hashlib.sha256(evaldata).hexdigest())
    return git_dir, commit


def test_copy_takes_the_json_and_the_pages_it_names_at_the_pinned_commit(
    snapshot: tuple[Path, str], tmp_path: Path
) -> None:
    git_dir, commit = snapshot
    manifest = evalset.copy(git_dir, commit, tmp_path / "copy")
    assert manifest["commit"] == commit and (manifest["pages"], manifest["files"]) == (2, 2)
    assert sorted(p.name for p in (tmp_path / "copy").rglob("*.html")) == ["a.html", "b.html"]
    loaded, pages = evalset.load(tmp_path / "copy")
    assert loaded == manifest and [p.body for p in pages] == [b"<p>a</p>", b"<p>b</p>"]
    assert evalset.worker_url(pages[0]) == "https://a.example/x"
    assert evalset.worker_url(pages[1]) == f"https://{evalset.STAND_IN_HOST}/b.html"


def test_copy_refuses_a_commit_other_than_the_pin_or_one_the_snapshot_lacks(
    snapshot: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git_dir, commit = snapshot
    other = "0" * 40
    with pytest.raises(evalset.SnapshotError, match="not the pinned"):
        evalset.copy(git_dir, other, tmp_path / "copy")
    with pytest.raises(evalset.SnapshotError, match="does not hold"):
        evalset.copy(git_dir, other, tmp_path / "copy", unpinned=True)
    with pytest.raises(evalset.SnapshotError, match="40 lower-case hex"):
        evalset.copy(git_dir, commit[:8], tmp_path / "copy")
    monkeypatch.setattr(evalset, "PINNED_EVALDATA_SHA256", "f" * 64)
    with pytest.raises(evalset.SnapshotError, match="sha256"):
        evalset.copy(git_dir, commit, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_a_changed_copy_is_refused_when_loaded(snapshot: tuple[Path, str], tmp_path: Path) -> None:
    git_dir, commit = snapshot
    evalset.copy(git_dir, commit, tmp_path / "copy")
    (tmp_path / "copy" / "evaldata.json").write_text("{}")
    with pytest.raises(evalset.SnapshotError, match="not the copied one"):
        evalset.load(tmp_path / "copy")


def test_the_report_lists_every_rejection_and_splits_the_missed_snippets(
    snapshot: tuple[Path, str], tmp_path: Path
) -> None:
    git_dir, commit = snapshot
    manifest = evalset.copy(git_dir, commit, tmp_path / "copy")
    _, pages = evalset.load(tmp_path / "copy")

    def theirs(page: evalset.EvalPage) -> evalset.Output:
        return evalset.Output(page.body.decode(), "B")

    def ours(page: evalset.EvalPage) -> evalset.Output:
        if page.url.startswith("hard::"):
            return evalset.Output(None, rejected="not_article_listing: because")
        return evalset.Output("nothing", [])

    tallies = evalset.run(pages, {"trafilatura": theirs, "worker": ours})
    printed = evalset.report(manifest, pages, tallies, listed=True)
    assert "| 1.000 | 1.000 | 1.000 | 1 (0 left empty) |" in printed
    assert "- not_article_listing: because | hard::b.html" in printed
    assert "finds them: 2 (1 on rejected pages, 1 inside published articles)" in printed
    assert "- https://a.example/x | a" in printed
