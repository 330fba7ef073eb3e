"""The spool's own rules, on disk: atomic writes, one owner per file, a file put back
when it is for another hub or another version, and the counts `thereyet flush` shows."""

from __future__ import annotations

import json
import os

from thereyet.client import spool

HUB = "http://127.0.0.1:1"


def test_a_write_leaves_one_complete_file_and_no_temporary_one(tmp_path):
    path = spool.write(tmp_path / "spool", HUB, "run-1", {"run_id": "run-1"})
    assert path == tmp_path / "spool" / "run-1.json"
    assert json.loads(path.read_text()) == {"v": 1, "hub": HUB, "run_id": "run-1"}
    assert [p.name for p in (tmp_path / "spool").iterdir()] == ["run-1.json"]
    assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700


def test_a_process_does_not_take_its_own_claims_twice(tmp_path):
    spool.write(tmp_path, HUB, "run-1", {})
    [(claimed, _)] = spool.claim(tmp_path, HUB)
    assert claimed.name == f"run-1.json.{os.getpid()}.claimed"
    assert spool.claim(tmp_path, HUB) == []
    spool.remove(claimed)
    spool.remove(claimed)  # already gone: no error
    assert list(tmp_path.iterdir()) == []


def test_a_file_of_another_version_is_put_back(tmp_path):
    (tmp_path / "old.json").write_text(json.dumps({"v": 0, "hub": HUB}))
    assert spool.claim(tmp_path, HUB) == []
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]


def test_a_claim_file_without_a_pid_is_left_alone(tmp_path):
    (tmp_path / "odd.json.someone.claimed").write_text(json.dumps({"v": 1, "hub": HUB}))
    assert spool.claim(tmp_path, HUB) == []


def test_the_counts_flush_shows(tmp_path):
    assert spool.claim(tmp_path / "missing", HUB) == []
    assert spool.count(tmp_path / "missing") == 0 and spool.broken(tmp_path / "missing") == 0
    assert spool.other_hubs(tmp_path / "missing", HUB) == {}
    spool.write(tmp_path, HUB, "mine", {})
    for i in range(5):
        spool.write(tmp_path, "http://a:1", f"a{i}", {})
        (tmp_path / f"cut{i}.json").write_text("{")  # unreadable files are passed over
    spool.write(tmp_path, "http://b:1", "b1", {})
    (tmp_path / "junk.json").write_text("[1, 2]")
    (tmp_path / "x.broken").write_text("{")
    assert spool.count(tmp_path) == 13
    assert spool.other_hubs(tmp_path, HUB) == {"http://a:1": 5, "http://b:1": 1}
    assert spool.broken(tmp_path) == 1


def test_new_names_are_unique_and_keep_their_prefix():
    names = {spool.new_name("m") for _ in range(100)}
    assert len(names) == 100 and all(n.startswith("m-") and len(n) == 34 for n in names)
