"""`thereyet user create|list|disable|password` on the hub's database."""

from __future__ import annotations

import io

from sqlalchemy import create_engine, select

from thereyet.cli.main import main
from thereyet.server.store.tables import users


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def password_hash(tmp_path, username: str) -> str:
    engine = create_engine(f"sqlite:///{tmp_path / 'thereyet.db'}")
    with engine.connect() as conn:
        found = conn.execute(select(users.c.password_hash).where(users.c.username == username))
        value = str(found.scalar_one())
    engine.dispose()
    return value


def test_user_create_reads_the_password_from_stdin_and_stores_only_its_hash(
    tmp_path, capsys, monkeypatch
):
    data = ["--data-dir", str(tmp_path), "--init"]
    stdin(monkeypatch, "correct horse battery\n")
    assert main(["user", "create", "ada", "--role", "admin", "--password-stdin", *data]) == 0
    assert "created user ada (admin)" in capsys.readouterr().out
    stored = password_hash(tmp_path, "ada")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored

    assert main(["user", "list", *data]) == 0
    assert capsys.readouterr().out.startswith("ada\tadmin\tactive\t")

    stdin(monkeypatch, "another password\n")
    assert main(["user", "create", "ada", "--role", "viewer", "--password-stdin", *data]) == 1
    assert "already exists" in capsys.readouterr().err


def test_user_create_refuses_a_short_password_and_says_why(tmp_path, capsys, monkeypatch):
    stdin(monkeypatch, "short\n")
    args = ["user", "create", "ada", "--role", "viewer", "--password-stdin"]
    assert main([*args, "--data-dir", str(tmp_path), "--init"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_user_create_prompts_twice_and_refuses_passwords_that_differ(tmp_path, capsys, monkeypatch):
    answers = iter(["correct horse battery", "correct horse batterY"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    args = ["user", "create", "ada", "--role", "viewer", "--data-dir", str(tmp_path), "--init"]
    assert main(args) == 2
    assert "differ" in capsys.readouterr().err
    answers = iter(["correct horse battery"] * 2)
    assert main(args) == 0


def test_user_disable_and_password(tmp_path, capsys, monkeypatch):
    data = ["--data-dir", str(tmp_path), "--init"]
    stdin(monkeypatch, "correct horse battery\n")
    main(["user", "create", "ada", "--role", "viewer", "--password-stdin", *data])
    before = password_hash(tmp_path, "ada")
    stdin(monkeypatch, "a new long password\n")
    assert main(["user", "password", "ada", "--password-stdin", *data]) == 0
    assert password_hash(tmp_path, "ada") != before
    assert main(["user", "disable", "ada", *data]) == 0
    assert main(["user", "disable", "nobody", *data]) == 1
    capsys.readouterr()
    main(["user", "list", *data])
    assert "\tdisabled 20" in capsys.readouterr().out
