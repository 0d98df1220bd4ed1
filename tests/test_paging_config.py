"""Config mistakes in paging are caught by `config check`, each naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsdesk.console.cli.main import run

BASE = """
[[people]]
login = "ana"
email = "ana@example.com"
[[services]]
name = "payments"
"""


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            '[[people]]\nlogin = "ben"\nemail = "b@x"\nnotify = [{ method = "ntfy" }]\n',
            'people[2 "ben"].notify[1].method: ben has no ntfy address (their methods: email)',
        ),
        (
            '[[integrations]]\nname = "am"\nkind = "alertmanager"\n',
            'integrations[1 "am"]: give secret_env or secret_file',
        ),
        (
            '[[integrations]]\nname = "pd"\nkind = "pagerduty"\nauth = "bearer"\nsecret_env = "X"\n',
            'integrations[1 "pd"].auth: pagerduty integrations use routing_key',
        ),
        (
            '[[integrations]]\nname = "g"\nkind = "grafana"\nauth = "basic"\nsecret_env = "X"\n',
            'integrations[1 "g"].username: basic auth needs a username',
        ),
        (
            '[[integrations]]\nname = "am"\nkind = "alertmanager"\nservice = "pay"\nsecret_env = "X"\n',
            'integrations[1 "am"].service: unknown service "pay"',
        ),
        (
            '[[integrations]]\nname = "am"\nkind = "alertmanager"\nsecret_env = "X"\n'
            '[integrations.severities]\ncritical = "P0"\n',
            'integrations[1 "am"].severities.critical: expected one of P1, P2, P3, P4',
        ),
        ('[serve]\nlisten = "8787"\n', "serve.listen: expected HOST:PORT"),
        ('[serve]\npublic_url = "opsdesk.example"\n', "serve.public_url: expected an http"),
        ("[notify]\nattempts = 0\n", "notify.attempts: at least 1"),
    ],
)
def test_paging_mistakes_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, said: str
) -> None:
    config = tmp_path / "team.toml"
    config.write_text(BASE + extra)
    assert run(["--config", str(config), "config", "check"]) == 2
    captured = capsys.readouterr()
    assert said in captured.out + captured.err


def test_a_good_paging_config_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "team.toml"
    config.write_text(
        BASE + '[[people]]\nlogin = "ben"\nntfy = "ben-x1"\nnotify = [{ method = "ntfy" }]\n'
        '[[integrations]]\nname = "am"\nkind = "alertmanager"\nservice = "payments"\n'
        'secret_env = "X"\n[serve]\nlisten = "0.0.0.0:8787"\n'
    )
    assert run(["--config", str(config), "config", "check"]) == 0
