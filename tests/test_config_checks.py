"""Every check the console makes at start-up is made by `config check` and `config set`
too; `config check` reports every mistake in one run; key collisions; approval rules
nobody can meet; and a starter config on which every workflow works."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.theme import BUILTIN_THEMES

from opsdesk.console.cli import run
from opsdesk.console.config import loader
from opsdesk.console.config.keymap import ACTIVE_TOGETHER, KEYS, keymap_problems
from opsdesk.console.config.themes import BUILTIN_THEME_NAMES
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.session import Options

Capture = pytest.CaptureFixture[str]


def check(path: Path, capsys: Capture) -> tuple[int, list[str], str]:
    """`config check` on `path`: exit code, stdout lines, stderr."""
    code = run(["--config", str(path), "config", "check"])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# Theme -----------------------------------------------------------------------------------


def test_theme_names_are_textual_s_builtin_themes() -> None:
    """The config layer keeps the names as data (no Textual import); a Textual upgrade
    that adds, removes or renames a theme fails here."""
    assert sorted(BUILTIN_THEME_NAMES) == sorted(BUILTIN_THEMES)
    assert len(set(BUILTIN_THEME_NAMES)) == len(BUILTIN_THEME_NAMES)


def test_an_unknown_theme_fails_config_set_config_check_and_start_up(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    main = write_config("[ui]\nbell = true\n")
    assert run(["--config", str(main), "config", "set", "ui.theme", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert '90-settings.toml: ui.theme: unknown theme "nonsense"' in err
    assert not (main.parent / "conf.d" / "90-settings.toml").exists()

    assert run(["--config", str(main), "config", "set", "ui.theme", "nrod"]) == 2
    assert 'ui.theme: unknown theme "nrod" (did you mean "nord"?)' in capsys.readouterr().err

    bad = write_config('[ui]\ntheme = "nonsense"\n', name="bad.toml")
    code, out, err = check(bad, capsys)
    assert code == 2
    assert out == [f'{bad}: ui.theme: unknown theme "nonsense" (Textual\'s themes: '
                   "textual-dark, textual-light, nord, gruvbox, ...)"]  # fmt: skip
    assert err == f"opsdesk: {out[0]}\n"

    from opsdesk.console.tui.start import run_tui

    with pytest.raises(ConfigError, match=r'bad.toml: ui.theme: unknown theme "nonsense"'):
        run_tui(Options(config=str(bad), store=str(bad.with_suffix(".db"))), mouse=None)


def test_every_builtin_theme_passes(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    for theme in BUILTIN_THEME_NAMES:
        path = write_config(f'[ui]\ntheme = "{theme}"\n', name=f"{theme}.toml")
        assert check(path, capsys)[0] == 0


# Every mistake in one run --------------------------------------------------------------


def test_config_check_lists_every_mistake_in_file_order(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    path = write_config(
        '[ui]\nmouse = "yes"\nthme = "x"\n[queue]\nreopen_days = 1.5\n[[people]]\nname = \'Ana\'\n',
        dropins={"10-more.toml": "[[services]]\nname = 'a'\ntier = 4\n"},
    )
    code, out, err = check(path, capsys)
    dropin = path.parent / "conf.d" / "10-more.toml"
    assert code == 2
    assert out == [
        f'{path}: ui.mouse: expected true or false, got "yes"',
        f'{path}: ui.thme: unknown key (did you mean "theme"?)',
        f"{path}: queue.reopen_days: expected an integer, got float 1.5",
        f'{path}: people[1 "Ana"].login: missing required key',
        f'{dropin}: services[1 "a"].tier: expected one of 1, 2, 3; got int 4',
    ]
    assert err == f"opsdesk: {out[0]} (and 4 more above)\n"


def test_every_reference_mistake_is_reported(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    path = write_config(
        '[ui]\ntheme = "nonsense"\n[keys]\n"screen.oncall" = "q"\n'
        "[[people]]\nlogin = 'ana'\n[roles]\nlead = ['anna']\n"
        "[[services]]\nname = 'a'\nvendors = ['Githb']\n[[vendors]]\nname = 'GitHub'\n"
    )
    code, out, err = check(path, capsys)
    assert code == 2
    assert [line.split(": ")[1] for line in out] == [
        "ui.theme", "keys.screen.oncall", "roles.lead[1]", 'services[1 "a"].vendors[1]',
    ]  # fmt: skip
    assert err.count("\n") == 1 and "(and 3 more above)" in err


def test_other_commands_say_the_first_mistake_and_how_many_more(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    path = write_config('[ui]\nmouse = "yes"\nbell = "no"\n')
    with pytest.raises(ConfigError) as caught:
        loader.load(str(path))
    assert str(caught.value) == (
        f'{path}: ui.mouse: expected true or false, got "yes" '
        "(and 1 more mistake: see `opsdesk config check`)"
    )
    assert caught.value.lines[1] == f'{path}: ui.bell: expected true or false, got "no"'  # type: ignore[attr-defined]


def test_config_check_json_lists_the_mistakes(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    import json

    path = write_config('[ui]\nmouse = "yes"\nbell = "no"\n')
    assert run(["--config", str(path), "config", "check", "--json"]) == 2
    assert len(json.loads(capsys.readouterr().out)["errors"]) == 2


# Keys ----------------------------------------------------------------------------------


def test_rebinding_onto_another_binding_is_refused_naming_both(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    path = write_config('[keys]\n"screen.oncall" = "q"\n')
    code, out, err = check(path, capsys)
    assert code == 2
    assert out == [
        f'{path}: keys.screen.oncall: "q" is already the key of "quit" on the queue, on-call, '
        'vendors and 10 more screens; it would take "quit" away: pick another key, or rebind '
        '"quit" too'
    ]
    assert err == f"opsdesk: {out[0]}\n"
    assert run(["--config", str(path), "config", "set", "quit", "x"]) == 2  # still collides
    capsys.readouterr()
    moved = write_config('[keys]\n"screen.oncall" = "q"\nquit = "Q"\n', name="moved.toml")
    assert check(moved, capsys)[0] == 0


@pytest.mark.parametrize(
    ("keys", "clash"),
    [
        ({"queue.mark": "x"}, ("queue.mark", "incident.close", "queue")),
        (
            {"table.top": "slash"},
            ("table.top", "filter", "queue, on-call, vendors, changes and problems"),
        ),
        ({"change.edit": "a"}, ("change.edit", "change.approve", "change detail")),
        ({"confirm.yes": "n"}, ("confirm.yes", "confirm.no", "confirm")),
        ({"help": "?"}, None),  # the same key, by its character
        ({"changes.new": "o"}, None),  # "o" is on other screens only
        ({"screen.oncall": "O"}, None),
        ({"quit": "ctrl+q", "screen.queue": "q"}, None),
    ],
)
def test_collisions_within_the_bindings_active_together(
    keys: dict[str, str], clash: tuple[str, str, str] | None
) -> None:
    problems = keymap_problems(keys)
    if clash is None:
        assert problems == []
        return
    rebound, other, screens = clash
    assert len(problems) == 1
    assert problems[0][0] == rebound
    assert f'the key of "{other}" on the {screens} screen' in problems[0][1]


def test_the_default_keys_have_no_collisions() -> None:
    assert keymap_problems({}) == []


def test_active_together_matches_the_screens() -> None:
    """Every key group is active somewhere, and each screen's bindings (its class and
    base classes, the app's unless it is modal, the table's on list screens) are the
    groups ACTIVE_TOGETHER lists for it."""
    from textual.screen import ModalScreen

    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.screens.change_calendar import ChangeCalendarScreen
    from opsdesk.screens.change_detail import ChangeDetailScreen
    from opsdesk.screens.changes import ChangesScreen
    from opsdesk.screens.dialogs import HelpScreen
    from opsdesk.screens.incident import IncidentScreen
    from opsdesk.screens.oncall import OncallScreen
    from opsdesk.screens.oncall_timeline import OncallTimelineScreen
    from opsdesk.screens.queue import QueueScreen
    from opsdesk.screens.service_review import ServiceReviewScreen
    from opsdesk.screens.table import OpsTable
    from opsdesk.screens.vendor_detail import VendorDetailScreen
    from opsdesk.screens.vendors import VendorsScreen

    assert {g for groups in ACTIVE_TOGETHER.values() for g in groups} == set(KEYS)

    def ids(*classes: type) -> set[str]:
        return {
            binding.id
            for cls in classes
            for base in cls.__mro__
            for binding in vars(base).get("BINDINGS", [])
            if getattr(binding, "id", None)
        }

    screens = {
        "queue": QueueScreen, "on-call": OncallScreen, "vendors": VendorsScreen,
        "changes": ChangesScreen, "incident": IncidentScreen,
        "change detail": ChangeDetailScreen, "change calendar": ChangeCalendarScreen,
        "on-call timeline": OncallTimelineScreen, "vendor detail": VendorDetailScreen,
        "help": HelpScreen, "service review": ServiceReviewScreen,
    }  # fmt: skip
    for name, screen in screens.items():
        classes: list[type] = [screen]
        if not issubclass(screen, ModalScreen):
            classes.append(OpsdeskApp)
        if "table" in ACTIVE_TOGETHER[name]:
            classes.append(OpsTable)
        expected = {key.id for group in ACTIVE_TOGETHER[name] for key in KEYS[group]}
        assert ids(*classes) == expected, name


# Approval rules --------------------------------------------------------------------------

ONE = "[[people]]\nlogin = 'ana'\n[roles]\nadmin = ['ana']\n"
TWO = "[[people]]\nlogin = 'ana'\n[[people]]\nlogin = 'bo'\n"


def rules(*lines: str) -> str:
    return "[changes]\napproval_rules = [\n" + "".join(f"  {line},\n" for line in lines) + "]\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ONE + rules("{type = 'standard'}", "{type = 'normal', cab = 1}",
                        "{type = 'emergency'}"),
            'changes.approval_rules[2]: normal changes can never be approved: nobody approves '
            "their own change, and ana is the only one who can approve; they would need 1 CAB "
            "approval from someone else: add people to [roles] or lower cab/lead",
        ),
        (
            TWO + "[roles]\ncab = ['ana', 'bo']\n"
            + rules("{type = 'normal', risk = ['high'], cab = 2}", "{type = 'normal'}",
                    "{type = 'emergency'}"),
            "changes.approval_rules[1]: normal changes (high risk) can never be approved: nobody "
            "approves their own change, and everyone who can approve (ana, bo) may be the "
            "requester; they would need 2 CAB approvals from someone else: add people to "
            "[roles] or lower cab/lead",
        ),
        (
            TWO + "[roles]\nlead = ['ana', 'bo']\n" + rules("{type = 'normal', lead = 3}"),
            "changes.approval_rules[1]: normal changes can never be approved: they need 3 lead "
            "approvals, and only ana, bo hold lead (or admin), nobody holds cab (or admin); "
            "add people to [roles] or lower cab/lead",
        ),
        (
            ONE + rules("{type = 'emergency', review_after = true}"),
            "changes.approval_rules[1]: emergency changes can never be approved: nobody approves "
            "their own change, and ana is the only one who can approve; they would need a "
            "review afterwards by a CAB member or lead from someone else: add people to [roles] "
            "or lower cab/lead",
        ),
    ],
)  # fmt: skip
def test_an_approval_rule_nobody_can_meet_is_an_error(
    text: str, expected: str, write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    path = write_config(text)
    code, out, _ = check(path, capsys)
    assert code == 2
    assert out == [f"{path}: {expected}"]


@pytest.mark.parametrize(
    "text",
    [
        # an admin approves a change the other person asked for
        TWO + "[roles]\nadmin = ['ana']\n" + rules("{type = 'normal', cab = 1}"),
        # two CAB members approve a change the third person asked for
        TWO + "[[people]]\nlogin = 'cy'\n[roles]\ncab = ['ana', 'bo']\n"
        + rules("{type = 'normal', cab = 2}", "{type = 'emergency', cab = 1}"),
        # one lead and one CAB member, each for the other's change
        TWO + "[roles]\nlead = ['ana']\ncab = ['bo']\n" + rules("{type = 'normal', cab = 1}"),
        # a lead who is also CAB fills either seat
        TWO + "[[people]]\nlogin = 'cy'\n[roles]\nlead = ['ana', 'bo']\ncab = ['bo']\n"
        + rules("{type = 'normal', lead = 1, cab = 1}"),
        # nobody granted anything: the team is set up elsewhere
        TWO,
    ],
)  # fmt: skip
def test_approval_rules_someone_can_meet_pass(text: str, write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    path = write_config(text)
    code, _, err = check(path, capsys)
    assert code == 0, err
    assert "warning" not in err


def test_the_default_rule_nobody_can_meet_is_a_warning(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    """Without rules, normal and emergency changes need one CAB approval: a team that
    grants a lead but no CAB is told, but its config still works for everything else."""
    path = write_config("[[people]]\nlogin = 'ana'\n[roles]\nlead = ['ana']\n")
    code, _, err = check(path, capsys)
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == (
        f"opsdesk: warning: {path}: changes.approval_rules: no rule for normal changes, so "
        "they need the default 1 CAB approval and can never be approved: they need 1 CAB "
        "approval, and only ana holds lead (or admin), nobody holds cab (or admin); add "
        "people to [roles] or lower cab/lead"
    )
    assert "no rule for emergency changes" in lines[1]


# The starter config ----------------------------------------------------------------------


def test_the_starter_config_passes_and_every_workflow_works(capsys: Capture, me: str) -> None:
    assert run(["init"]) == 0
    path = loader.default_config_path()
    text = path.read_text()
    data = tomllib.loads(text)
    assert sorted(data["sla"]["priorities"]) == ["P1", "P2", "P3", "P4"]
    (schedule,) = data["schedules"]
    assert schedule["layers"][0]["members"] == [me]
    assert schedule["layers"][0]["rotation"] == "1w"
    assert schedule["timezone"] == data["people"][0]["timezone"] == "UTC"  # TZ in conftest
    assert data["escalation_policies"] == [
        {
            "service": "website",
            "levels": [{"after": "0s", "schedule": "primary"}],
            "repeat": 0,
            "repeat_after": "30m",
        }
    ]
    assert {rule["type"]: rule["cab"] + rule["lead"]
            for rule in data["changes"]["approval_rules"]} == {
        "standard": 0, "normal": 0, "emergency": 0,
    }  # fmt: skip
    assert "# Nobody approves their own change" in text  # says what to edit
    capsys.readouterr()
    assert run(["config", "check"]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err and err.startswith("opsdesk: config OK")
    config = loader.load(None).config
    assert config.policy("website") is not None


def test_the_starter_config_lets_one_person_run_a_normal_change(capsys: Capture) -> None:
    """Create and submit: it is scheduled without anyone else (nobody approves their own)."""
    import json

    assert run(["init"]) == 0
    capsys.readouterr()
    argv = ["change", "new", "--type", "normal", "--title", "Patch web",
            "--service", "website", "--start", "2026-12-01T10:00Z", "--end", "2026-12-01T11:00Z",
            "--test-plan", "staging", "--backout", "redeploy", "--json"]  # fmt: skip
    assert run(argv) == 0, capsys.readouterr().err
    key = json.loads(capsys.readouterr().out)["key"]
    submit = ["change", "submit", key, "--ack-conflicts", "--json"]
    assert run(submit) == 0, capsys.readouterr().err  # conflict: they are on call then
    assert json.loads(capsys.readouterr().out)["state"] == "scheduled"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[queue]\nreopen_days = -3\n", "queue.reopen_days: must be at least 0; got -3"),
        (
            '[notify.email]\nsmtp_port = 70000\nsmtp_host = "mail"\n',
            "notify.email.smtp_port: must be from 1 to 65535; got 70000",
        ),
    ],
)
def test_a_number_out_of_its_bounds_is_refused_where_it_is_written(text: str, said: str) -> None:
    from opsdesk.console.config.loader import ConfigErrors, parse_text

    with pytest.raises(ConfigErrors) as caught:
        parse_text(text, "team.toml")
    assert said in str(caught.value), caught.value
