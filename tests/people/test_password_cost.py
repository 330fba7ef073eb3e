"""The cost of password hashes (the setting password_hash_cost): RFC 9106's low-memory
profile as shipped, another cost for new hashes when set, a stored hash of another cost
still signing in and redone at the new one, and a malformed cost refused at start."""

from __future__ import annotations

import io

import pytest
from argon2 import PasswordHasher

from tests.people.test_people_cli import password_hash
from tests.web.conftest import PASSWORD, sign_in
from thereyet.cli.main import main
from thereyet.server.config import Settings, settings_from_env
from thereyet.server.domain.people import HashCost, hash_cost
from thereyet.server.services.people import password_hasher


def test_the_shipped_cost_is_rfc_9106s_low_memory_profile():
    hasher = password_hasher(Settings().password_hash_cost)
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (65536, 3, 4)
    # argon2-cffi's own defaults are that profile too: a stored default hash needs no redoing.
    assert not hasher.check_needs_rehash(PasswordHasher().hash(PASSWORD))


def test_a_cost_is_read_as_argon2_writes_it_in_a_hash():
    assert hash_cost("m=19456, t=2, p=1") == HashCost(memory_kib=19456, passes=2, lanes=1)
    assert settings_from_env({"THEREYET_PASSWORD_HASH_COST": "m=8,t=1,p=1"}).password_hash_cost
    assert "m=8,t=1,p=1" in password_hasher("m=8,t=1,p=1").hash(PASSWORD)


@pytest.mark.parametrize(
    ("cost", "says"),
    [
        ("65536", "must be m=<KiB>,t=<passes>,p=<lanes>"),
        ("m=64MiB,t=3,p=4", "must be m=<KiB>,t=<passes>,p=<lanes>"),
        ("m=65536,t=3", "must be m=<KiB>,t=<passes>,p=<lanes>"),
        ("m=65536,t=3,p=4,x=1", "must be m=<KiB>,t=<passes>,p=<lanes>"),
        ("m=65536,t=0,p=4", "needs t >= 1"),
        ("m=16,t=1,p=4", "m >= 8 * p"),
        ("m=65536,t=1,p=0", "p from 1 to 255"),
    ],
)
def test_a_malformed_cost_is_refused_naming_the_setting(cost, says):
    with pytest.raises(ValueError, match="password_hash_cost") as refused:
        password_hasher(cost)
    assert says in str(refused.value)


def test_a_server_with_a_malformed_cost_does_not_start_and_says_why(tmp_path, capsys):
    args = ["server", "--data-dir", str(tmp_path), "--port", "0"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("THEREYET_PASSWORD_HASH_COST", "m=64MiB,t=3,p=4")
        assert main(args) == 2
    err = capsys.readouterr().err
    assert "password_hash_cost must be m=<KiB>,t=<passes>,p=<lanes>" in err
    assert not (tmp_path / "thereyet.db").exists()  # refused before anything was made


def test_new_hashes_take_the_set_cost_and_an_old_one_is_redone_at_sign_in(tmp_path):
    data = ["--data-dir", str(tmp_path), "--init"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        patch.setenv("THEREYET_PASSWORD_HASH_COST", "m=16,t=1,p=2")
        assert main(["user", "create", "ada", "--role", "viewer", "--password-stdin", *data]) == 0
    assert "$m=16,t=1,p=2$" in password_hash(tmp_path, "ada")

    from starlette.testclient import TestClient

    from tests.conftest import make_settings
    from thereyet.server.app import create_app

    db = f"sqlite:///{tmp_path / 'thereyet.db'}"
    app = create_app(make_settings(db, tmp_path, password_hash_cost="m=32,t=2,p=1"))
    with TestClient(app, base_url="http://hub.example") as browser:
        sign_in(browser, "ada")  # the old hash still signs in
    assert "$m=32,t=2,p=1$" in password_hash(tmp_path, "ada")  # and was redone
