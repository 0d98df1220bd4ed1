"""`opsdesk store migrate | roles | grant | revoke` on PostgreSQL: the owner migrates, admins
grant opsdesk's roles as database roles (audited), nobody else can, and a config file's
[roles] grants nothing there."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from opsdesk.console.cli.main import run
from tests.pg_cluster import PgCluster


def opsdesk(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def database(pg_cluster: PgCluster, pg_database: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A migrated database (by its owner, as `store migrate`), with an admin `ada_cli`,
    an engineer `eve_cli`; returns the database name."""
    code, out, _ = opsdesk(capsys, "--store", pg_database, "store", "migrate")
    assert code == 0 and "schema" in out
    pg_cluster.create_role("ada_cli", member_of=("opsdesk_engineer", "opsdesk_admin"))
    pg_cluster.create_role("eve_cli", member_of=("opsdesk_engineer",))
    return urlsplit(pg_database).path.lstrip("/")


def test_an_admin_grants_and_revokes_and_each_is_audited(
    pg_cluster: PgCluster, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = pg_cluster.url(database, user="ada_cli")
    code, out, err = opsdesk(capsys, "--store", admin, "store", "grant", "eve_cli", "cab")
    assert (code, err) == (0, "")
    assert out.strip() == "cab granted to eve_cli; eve_cli now holds: cab, engineer"
    code, out, _ = opsdesk(capsys, "--store", admin, "store", "roles", "--json")
    assert '"eve_cli": [\n      "cab",\n      "engineer"\n    ]' in out
    code, out, _ = opsdesk(capsys, "--store", admin, "store", "revoke", "eve_cli", "cab")
    assert code == 0 and "now holds: engineer" in out
    code, out, _ = opsdesk(capsys, "--store", admin, "audit", "--json")
    assert code == 0
    assert out.count('"role.grant"') == 1 and out.count('"role.revoke"') == 1
    assert '"actor": "ada_cli"' in out
    code, out, _ = opsdesk(capsys, "--store", admin, "audit", "--verify")
    assert code == 0 and "chain intact" in out


def test_an_engineer_cannot_grant_even_to_themself(
    pg_cluster: PgCluster, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engineer = pg_cluster.url(database, user="eve_cli")
    code, out, err = opsdesk(capsys, "--store", engineer, "store", "grant", "eve_cli", "admin")
    assert code == 1 and out == ""
    assert err.strip() == (
        "opsdesk: granting opsdesk roles needs the admin role; eve_cli does not have it"
    )
    code, out, _ = opsdesk(capsys, "--store", engineer, "store", "roles", "--json")
    assert '"eve_cli": [\n      "engineer"\n    ]' in out


def test_a_config_file_grants_nothing_on_postgresql(
    pg_cluster: PgCluster,
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "team.toml"
    config.write_text('[roles]\nadmin = ["eve_cli"]\nlead = ["eve_cli"]\n')
    engineer = pg_cluster.url(database, user="eve_cli")
    code, _, err = opsdesk(
        capsys, "--config", str(config), "--store", engineer, "banner", "set", "mine now"
    )
    assert code == 1
    assert "setting the banner needs the lead role; eve_cli does not have it" in err
    assert "roles are granted in the database (opsdesk store grant)" in err


def test_bad_role_names_and_sqlite_stores_are_usage_mistakes(
    pg_cluster: PgCluster, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = pg_cluster.url(database, user="ada_cli")
    code, _, err = opsdesk(capsys, "--store", admin, "store", "grant", "eve_cli", "root")
    assert code == 2
    assert err.strip() == "opsdesk: unknown role 'root'; choose one of engineer, lead, admin, cab"
    code, _, err = opsdesk(capsys, "--store", admin, "store", "grant", "opsdesk_owner", "admin")
    assert code == 1 and "group or system role" in err
    sqlite = str(tmp_path / "s.db")
    code, _, err = opsdesk(capsys, "--store", sqlite, "store", "grant", "eve_cli", "cab")
    assert code == 2 and "roles on a SQLite store come from config files" in err


def test_only_the_owner_migrates_and_anyone_else_is_told_who_must(
    pg_cluster: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    name = pg_cluster.create_database()
    pg_cluster.create_role("eve_cli", member_of=("opsdesk_engineer",))
    code, _, err = opsdesk(
        capsys, "--store", pg_cluster.url(name, user="eve_cli"), "incident", "list"
    )
    assert code == 1
    assert "needs upgrading" in err and "opsdesk store migrate" in err
    assert len(err.strip().splitlines()) == 1
    pg_cluster.drop_database(name)


def test_approval_rules_count_only_from_files_root_owns(
    pg_cluster: PgCluster, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person's own config cannot lower what their change needs on PostgreSQL: its
    [changes] is ignored, said in one line; root's (the team's /etc/opsdesk) counts."""
    import os
    import pwd

    folder = tmp_path / "mine"
    folder.mkdir()
    config = folder / "mine.toml"
    config.write_text("[changes]\nrisk_questions = []\n")
    nobody = pwd.getpwnam("nobody")
    os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    os.chown(config, nobody.pw_uid, nobody.pw_gid)
    engineer = pg_cluster.url(database, user="eve_cli")
    code, _, err = opsdesk(capsys, "--config", str(config), "--store", engineer, "banner", "show")
    assert code == 0
    assert err.strip() == (
        f"opsdesk: change approval rules from {config} ignored: the store is PostgreSQL, where"
        " roles are granted in the database (opsdesk store grant) and approval rules come only"
        " from files root owns"
    )
    os.chown(config, 0, 0)
    os.chown(folder, 0, 0)
    code, _, err = opsdesk(capsys, "--config", str(config), "--store", engineer, "banner", "show")
    assert (code, err) == (0, "")


def test_info_on_a_database_not_yet_migrated_says_who_runs_what(
    pg_cluster: PgCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsdesk.store.pg.db import LATEST_PG_SCHEMA as LATEST

    name = pg_cluster.create_database()
    code, _, err = opsdesk(capsys, "--store", pg_cluster.url(name), "info")
    assert code == 1
    assert err.strip().endswith(
        f"schema 0 needs upgrading to {LATEST}; the database's owner runs"
        " `opsdesk store migrate` once"
    )
    code, out, _ = opsdesk(capsys, "--store", pg_cluster.url(name), "store", "migrate")
    assert code == 0 and f"schema {LATEST}" in out
    code, out, _ = opsdesk(capsys, "--store", pg_cluster.url(name), "info")
    assert code == 0 and f"schema_version:  {LATEST}" in out
    pg_cluster.drop_database(name)
