"""Privacy and security round 2 (issue 19): the key file, identifiers through quarantine and free text,
the sign-in rules, disclosure by differencing."""

from __future__ import annotations

import os
import stat

import pytest

from etl.__main__ import main as etl_main
from etl.pseudonymise import KEY_ENV, KeyError_, load_key
from tests.blade import Blade


def _extract(tmp_path):
    b = Blade()
    b.request(b.person(), "2023-02-01", "N", "2023-03-01")
    return b.write(tmp_path / "extract")


@pytest.mark.parametrize("content", ["", "\n", "ab", "00" * 15])
def test_a_short_key_file_is_refused_with_exit_2_and_one_line(tmp_path, monkeypatch, capsys, content):
    monkeypatch.delenv(KEY_ENV)
    db = tmp_path / "db" / "app.duckdb"
    db.parent.mkdir()
    (db.parent / "pseudonym.key").write_text(content)
    with pytest.raises(KeyError_):
        load_key(db)
    assert etl_main(["load", str(_extract(tmp_path)), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "pseudonym.key" in err and "16 bytes" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("value", ["", " ", "ab", "00" * 15])
def test_a_short_key_in_the_environment_is_refused(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(KeyError_):
        load_key(tmp_path / "app.duckdb")
    assert etl_main(["load", str(_extract(tmp_path)), "--db", str(tmp_path / "app.duckdb")]) == 2
    err = capsys.readouterr().err
    assert KEY_ENV in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pseudonym.key").exists()


def test_a_new_key_file_is_written_atomically_and_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    calls = []
    real_fsync, real_link, real_rename = os.fsync, os.link, os.rename
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "link", lambda a, b: (calls.append(("link", str(b))), real_link(a, b))[1])
    monkeypatch.setattr(os, "rename", lambda a, b: (calls.append(("rename", str(b))), real_rename(a, b))[1])
    old = os.umask(0)  # the mode must not depend on the umask
    try:
        key = load_key(tmp_path / "app.duckdb")
    finally:
        os.umask(old)
    path = tmp_path / "pseudonym.key"
    assert len(key) == 32 and path.read_text() == key.hex()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert calls[0] == "fsync" and calls[1][1] == str(path)  # written, synced, then put in place
    assert [p.name for p in tmp_path.iterdir()] == ["pseudonym.key"]  # no temporary file left
    assert load_key(tmp_path / "app.duckdb") == key  # and read back the same


def test_a_key_file_made_meanwhile_by_another_process_wins(tmp_path, monkeypatch):
    from etl import pseudonymise

    monkeypatch.delenv(KEY_ENV)
    theirs = "ab" * 32
    real = pseudonymise._write_atomically

    def race(path, text):
        path.write_text(theirs)
        return real(path, text)

    monkeypatch.setattr(pseudonymise, "_write_atomically", race)
    assert load_key(tmp_path / "app.duckdb") == bytes.fromhex(theirs)


ENTRA = "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0"


@pytest.mark.parametrize("claims,role", [
    ({"email": "eve@education.gov.uk"}, None),                                   # no email_verified
    ({"email": "eve@education.gov.uk", "email_verified": "false"}, None),        # a string is not a boolean
    ({"email": "eve@education.gov.uk", "email_verified": "true"}, None),
    ({"email": "eve@education.gov.uk", "email_verified": 1}, None),
    ({"email": "eve@education.gov.uk", "email_verified": False}, None),
    ({"email": "eve@education.gov.uk", "email_verified": True}, "monitor"),
    ({"email": "eve@education.gov.uk", "iss": ENTRA}, "monitor"),                # a trusted provider
    ({"email": "eve@education.gov.uk", "iss": ENTRA + "/"}, "monitor"),
    ({"email": "eve@education.gov.uk", "iss": "https://login.microsoftonline.com/common/v2.0"}, None),
    ({"email": "eve@education.gov.uk", "iss": "https://evil.example"}, None),
    ({"preferred_username": "eve@education.gov.uk"}, None),                      # other email-like claims too
    ({"email": "eve@education.gov.uk", "roles": ["app-analyst"]}, "analyst"),    # app roles need no email
])
def test_an_email_rule_needs_a_verified_email_or_a_trusted_provider(claims, role):
    from kpi.roles import ClaimRule, RolesConfig, role_for

    cfg = RolesConfig(rules=[ClaimRule(claim="roles", equals="app-analyst", role="analyst"),
                             ClaimRule(claim="email", ends_with="@education.gov.uk", role="monitor"),
                             ClaimRule(claim="preferred_username", ends_with="@education.gov.uk", role="monitor")],
                      pages={"monitor": [], "leadership": [], "analyst": "all"}, trusted_email_issuers=[ENTRA])
    assert role_for(claims, cfg) == role


def test_the_shipped_configuration_trusts_no_provider_by_default():
    from kpi import roles

    cfg = roles.load().roles
    assert cfg.trusted_email_issuers == []
    assert roles.role_for({"email": "eve@education.gov.uk"}, cfg) is None
    assert roles.role_for({"email": "eve@education.gov.uk", "email_verified": "false"}, cfg) is None
