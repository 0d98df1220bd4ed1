"""Config: lookup order, conf.d merging, and one clear line for each kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.console.cli import run
from opsdesk.console.config import loader as loader
from opsdesk.console.config.model import Config
from opsdesk.console.errors import ConfigError
from tests.conftest import ROOT


def error_of(text: str, write_config) -> str:  # type: ignore[no-untyped-def]
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        loader.load(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[ui]\nmouse = "yes"', 'ui.mouse: expected true or false, got "yes"'),
        ("[queue]\nreopen_days = 1.5", "queue.reopen_days: expected an integer, got float 1.5"),
        (
            '[sla.priorities.P1]\nrespond = "15 minutes"\nresolve = "4h"',
            'sla.priorities.P1.respond: expected a duration like "15m", "4h" or "1d", '
            "got '15 minutes'",
        ),
        ('[ui]\nthme = "x"', 'ui.thme: unknown key (did you mean "theme"?)'),
        ("[[sevices]]\nname = 'x'", 'sevices: unknown section (did you mean "services"?)'),
        ("[[people]]\nname = 'Ana'", 'people[1 "Ana"].login: missing required key'),
        (
            "[[services]]\nname = 'a'\ntier = 4",
            'services[1 "a"].tier: expected one of 1, 2, 3; got int 4',
        ),
        (
            "[[people]]\nlogin = 'ana'\n[roles]\nlead = ['anna']",
            'roles.lead[1]: unknown login "anna" (did you mean "ana"?)',
        ),
        (
            "[[services]]\nname = 'a'\nvendors = ['Githb']\n[[vendors]]\nname = 'GitHub'",
            'services[1 "a"].vendors[1]: unknown vendor "Githb" (did you mean "GitHub"?)',
        ),
        (
            "[[schedules]]\nname = 's'\ntimezone = 'Mars/Olympus'",
            'schedules[1 "s"].timezone: expected an IANA time zone like "Europe/Berlin", '
            "got 'Mars/Olympus'",
        ),
        (
            "[[freeze_windows]]\nname='f'\nstart='2026-12-20T00:00'\nend='2026-12-21T00:00Z'",
            'freeze_windows[1 "f"].start: expected a date-time with an offset (Z or +01:00), '
            "got '2026-12-20T00:00'",
        ),
        (
            "[[freeze_windows]]\nname='f'\nstart=2026-12-21T00:00:00Z\nend=2026-12-20T00:00:00Z",
            'freeze_windows[1 "f"].end: end must be after start',
        ),
        (
            "[[schedules]]\nname='s'\ntimezone='UTC'\n[[schedules.layers]]\nname='l'\n"
            "members=['a']\nrotation='0m'\nstart='2026-01-01T09:00'",
            'schedules[1 "s"].layers[1 "l"].rotation: rotation must be longer than zero',
        ),
        (
            "[[schedules]]\nname='s'\ntimezone='UTC'\n[[schedules.layers]]\nname='l'\n"
            "members=['a']\nrotation='1d'\nstart='2026-01-01T09:00'\nrestrict={days=[]}",
            'schedules[1 "s"].layers[1 "l"].restrict.days: restriction leaves no days',
        ),
        (
            "[[sources]]\nname='x'\nurl='https://s.example'\nplugin='statuspag'",
            'sources[1 "x"].plugin: unknown plugin "statuspag" (did you mean "statuspage"?)',
        ),
        (
            "[[sources]]\nname='x'\nurl='https://a.example'\nplugin='alertmanager'\n"
            "matchers='env=prod'",
            'sources[1 "x"].matchers: expected an array, got "env=prod"',
        ),
        (
            "[[sources]]\nname='x'\nurl='https://a.example'\nplugin='http'\nexpect_statuss=[200]",
            'sources[1 "x"].expect_statuss: unknown key (did you mean "expect_status"?)',
        ),
        (
            "[[sources]]\nname='x'\nurl='https://a.example'\nplugin='http'\nvendor='Acme'",
            'sources[1 "x"].vendor: unknown vendor "Acme" (no vendor is defined)',
        ),
        (
            "[[people]]\nlogin='a'\n[[people]]\nlogin='a'",
            'people[2 "a"].login: duplicate login "a" (first in people[1])',
        ),
    ],
)
def test_each_mistake_is_one_line_naming_file_and_key(
    text: str, expected: str, write_config
) -> None:  # type: ignore[no-untyped-def]
    assert error_of(text, write_config) == expected


def test_invalid_toml_names_the_file_and_line(write_config) -> None:  # type: ignore[no-untyped-def]
    message = error_of("[ui\nmouse = true", write_config)
    assert message.startswith("not valid TOML:") and "line 1" in message


def test_no_config_anywhere_gives_defaults() -> None:
    loaded = loader.load(None)
    assert loaded.files == []
    assert loaded.config == Config()
    assert loaded.config.sla.priorities["P1"].respond.total_seconds() == 15 * 60


def test_lookup_order_flag_then_env_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = loader.default_config_path()
    xdg.parent.mkdir(parents=True)
    xdg.write_text('[ui]\ntheme = "nord"\n')
    env = tmp_path / "env.toml"
    env.write_text('[ui]\ntheme = "dracula"\n')
    flag = tmp_path / "flag.toml"
    flag.write_text('[ui]\ntheme = "monokai"\n')
    assert loader.load(None).config.ui.theme == "nord"
    monkeypatch.setenv("OPSDESK_CONFIG", str(env))
    assert loader.load(None).config.ui.theme == "dracula"
    assert loader.load(str(flag)).config.ui.theme == "monokai"


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found \(from --config\)"):
        loader.load(str(tmp_path / "nope.toml"))


def test_dropins_merge_in_name_order_and_errors_name_the_dropin(write_config) -> None:  # type: ignore[no-untyped-def]
    main = write_config(
        "[ui]\ntheme = 'textual-dark'\nbell = true\n[[people]]\nlogin = 'ana'\n",
        dropins={
            "10-more.toml": "[[people]]\nlogin = 'ben'\n[ui]\nbell = false\n",
            "20-theme.toml": "[ui]\ntheme = 'textual-light'\n",
        },
    )
    loaded = loader.load(str(main))
    assert [p.login for p in loaded.config.people] == ["ana", "ben"]
    assert loaded.config.ui.theme == "textual-light"
    assert loaded.config.ui.bell is False
    assert [f.name for f in loaded.files] == ["config.toml", "10-more.toml", "20-theme.toml"]

    bad = main.parent / "conf.d" / "30-bad.toml"
    bad.write_text("[[people]]\nlogin = 'cruz'\ntimezone = 'Nowhere/City'\n")
    with pytest.raises(ConfigError) as caught:
        loader.load(str(main))
    assert str(caught.value).startswith(f'{bad}: people[3 "cruz"].timezone: expected an IANA')


def test_sample_toml_is_valid_and_complete() -> None:
    loaded = loader.load(str(ROOT / "sample.toml"))
    config = loaded.config
    assert len(config.people) >= 5 and config.roles.cab
    assert set(config.sla.priorities) == {"P1", "P2", "P3", "P4"}
    assert config.sla.calendars and config.freeze_windows and config.changes.approval_rules
    assert len(config.schedules) == 2 and config.escalation_policies
    vendors_with_status = {s.vendor for s in config.sources if s.vendor}
    assert {v.name for v in config.vendors} <= vendors_with_status
    assert {s.plugin for s in config.sources} >= {"statuspage", "http", "alertmanager"}
    alerts = next(s for s in config.sources if s.plugin == "alertmanager")
    assert alerts.options["open_incidents"] is True  # a plugin option in the same table


def test_effective_config_round_trips_through_toml(write_config) -> None:  # type: ignore[no-untyped-def]
    original = loader.load(str(ROOT / "sample.toml")).config
    text = tomli_w.dumps(loader.to_toml_data(original))
    assert loader.parse_text(text, "round trip") == original


def test_cli_config_check_exit_codes(write_config, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    good = write_config("[ui]\nbell = false\n", name="good.toml")
    assert run(["config", "check", "--config", str(good)]) == 0
    assert "bell = false" in capsys.readouterr().out
    bad = write_config("[ui]\nbel = false\n", name="bad.toml")
    assert run(["--config", str(bad), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err == f'opsdesk: {bad}: ui.bel: unknown key (did you mean "bell"?)\n'


def test_unknown_key_binding_id_is_a_config_error(write_config, capsys) -> None:  # type: ignore[no-untyped-def]
    path = write_config('[keys]\n"screen.oncal" = "o"\n')
    assert run(["config", "check", "--config", str(path)]) == 2
    assert 'keys.screen.oncal: unknown binding id (did you mean "screen.oncall"?)' in (
        capsys.readouterr().err
    )


toml_scalars = st.one_of(
    st.booleans(), st.integers(), st.text(max_size=20), st.floats(allow_nan=False)
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
section_names = st.sampled_from(
    ["ui", "store", "people", "roles", "sla", "services", "vendors", "schedules", "keys",
     "priority", "freeze_windows", "changes", "escalation_policies", "queue", "bogus"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(section_names, toml_values, max_size=4))
def test_any_toml_data_gives_config_or_one_line_error(data: dict) -> None:  # type: ignore[type-arg]
    try:
        loader.parse_sources([("fuzz.toml", data)])
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.toml: ") and "\n" not in str(exc)


def test_sla_targets_for_some_priorities_only_are_a_config_error(
    write_config, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    """Giving P1 alone replaced all four defaults; `config check` passed and the first
    `incident new` at P4 died with "internal error: KeyError". Now the check says so."""
    path = write_config('[sla.priorities.P1]\nrespond = "10m"\nresolve = "2h"\n')
    assert run(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"opsdesk: {path}: sla.priorities: no target for P2, P3, P4 "
        "(giving any replaces the defaults: give all four)"
    )
    full = "".join(
        f'[sla.priorities.{p}]\nrespond = "1h"\nresolve = "8h"\n' for p in ("P1", "P2", "P3", "P4")
    )
    assert run(["--config", str(write_config(full, name="full.toml")), "config", "check"]) == 0


# Names and nesting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[people]]\nlogin = "ana\\r\\nx"',
         'people[1 "ana\\r\\nx"].login: control characters are not allowed (U+000D)'),
        ('[[people]]\nlogin = "ana"\nname = "Ana\\u001b]2;x\\u0007"',
         'people[1 "ana"].name: control characters are not allowed (U+001B)'),
        ('[[services]]\nname = "payments "',
         'services[1 "payments "].name: leading or trailing whitespace is not allowed'),
        ('[[vendors]]\nname = ""', 'vendors[1 ""].name: must not be empty'),
        ('[[schedules]]\nname = "p\\u2028q"\ntimezone = "UTC"',
         'schedules[1 "p\\u2028q"].name: control characters are not allowed (U+2028)'),
        ('[[freeze_windows]]\nname = "x\\ty"\nstart = 2026-12-20T00:00:00Z\n'
         "end = 2026-12-27T00:00:00Z",
         'freeze_windows[1 "x\\ty"].name: control characters are not allowed (U+0009)'),
    ],
)  # fmt: skip
def test_names_refuse_control_characters_and_surrounding_space(
    text: str, expected: str, write_config
) -> None:  # type: ignore[no-untyped-def]
    assert error_of(text, write_config) == expected


def test_names_may_be_any_printable_text(write_config) -> None:  # type: ignore[no-untyped-def]
    """Markup, accents, wide and right-to-left text, emoji joined by ZWJ and a Persian
    name with a zero-width non-joiner are all names; free text keeps anything (it is
    cleaned where it is drawn)."""
    path = write_config(
        '[[people]]\nlogin = "zoë"\nname = "می\u200cخواهم"\n'
        '[[services]]\nname = "[bold]pay[/] 漢字 👩\u200d💻"\ndescription = "a\\u001b[2Jb"\n'
        '[[vendors]]\nname = "שלום"\ndescription = "x\\r\\ny"\n'
    )
    config = loader.load(str(path)).config
    assert config.people[0].name == "می\u200cخواهم"
    assert config.services[0].description == "a\x1b[2Jb"


def test_read_toml_bounds_nesting(tmp_path: Path) -> None:
    fine, deep = tmp_path / "fine.toml", tmp_path / "deep.toml"
    fine.write_text("x = " + "[" * 64 + "1" + "]" * 64, encoding="utf-8")
    deep.write_text("x = " + "[" * 3000 + "]" * 3000, encoding="utf-8")
    assert loader.read_toml(fine)["x"][0][0][0]
    with pytest.raises(ConfigError, match=r"deep.toml: too deeply nested \(over 64 levels\)$"):
        loader.read_toml(deep)


def test_a_key_with_control_characters_is_refused(
    write_config, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    """Keys are drawn in the footer and the help screen: an escape sequence there would
    reach the terminal."""
    path = write_config('[keys]\n"queue.mark" = "m\\u001b]2;owned\\u0007"\n')
    assert run(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert "keys.queue.mark: control characters are not allowed in a key" in err
    assert "\x1b" not in err


def test_config_check_prints_c1_and_bidi_controls_escaped_and_round_trips(
    write_config, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    import tomllib

    path = write_config(
        '[[services]]\nname = "web"\ndescription = "a\\u009b31mb\\u202ec\\u200bd"\n'
    )
    assert run(["--config", str(path), "config", "check"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x9b\u202e\u200b")
    assert "\\u009b" in out and "\\u202e" in out
    assert tomllib.loads(out)["services"][0]["description"] == "a\x9b31mb\u202ec\u200bd"
