"""What imported rotas need from opsdesk's layers, and that configs without them read
as before: several restriction windows (unioned), a window crossing midnight, a turn of
nobody, bounds (`active_from`, `until`) that do not move hand-offs, and a layer in a zone
of its own; and the config checks that refuse the mistakes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.config.model import NOBODY, Layer, Restriction, Schedule
from opsdesk.console.domain.rotations import final_rota

Capture = pytest.CaptureFixture[str]


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rota(*layers: Layer, zone: str = "UTC", days: int = 7) -> list[tuple[str, str, str | None]]:
    start = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    shifts = final_rota(Schedule("s", zone, list(layers)), [], start, start + timedelta(days=days))
    return [(f"{s.start:%a %d %H:%M}", f"{s.end:%a %d %H:%M}", s.login) for s in shifts]


def base(members: list[str], **fields: object) -> Layer:
    return Layer(name="base", members=members, rotation=timedelta(days=7),
                 start=datetime(2026, 3, 2), **fields)  # type: ignore[arg-type]  # fmt: skip


def test_several_windows_are_unioned_and_may_cross_midnight() -> None:
    windows = [
        Restriction(days=["mon"], from_=time(9), to=time(12)),
        Restriction(days=["mon"], from_=time(11), to=time(13)),  # overlaps the first
        Restriction(days=["tue"], from_=time(22), to=time(6)),  # into Wednesday
    ]
    assert rota(base(["ann"], restrictions=windows), days=3) == [
        ("Mon 02 00:00", "Mon 02 09:00", None),
        ("Mon 02 09:00", "Mon 02 13:00", "ann"),
        ("Mon 02 13:00", "Tue 03 22:00", None),
        ("Tue 03 22:00", "Wed 04 06:00", "ann"),
        ("Wed 04 06:00", "Thu 05 00:00", None),
    ]


def test_restrict_and_restrictions_together() -> None:
    layer = base(["ann"], restrict=Restriction(days=["mon"], from_=time(9), to=time(10)),
                 restrictions=[Restriction(days=["mon"], from_=time(10), to=time(11))])  # fmt: skip
    assert rota(layer, days=1)[1] == ("Mon 02 09:00", "Mon 02 11:00", "ann")


def test_a_turn_of_nobody_lets_the_layer_below_show() -> None:
    below = Layer(name="below", members=["bo"], rotation=timedelta(days=1),
                  start=datetime(2026, 3, 2))  # fmt: skip
    top = Layer(name="top", members=["ann", NOBODY], rotation=timedelta(days=1),
                start=datetime(2026, 3, 2))  # fmt: skip
    assert rota(below, top, days=3) == [
        ("Mon 02 00:00", "Tue 03 00:00", "ann"),
        ("Tue 03 00:00", "Wed 04 00:00", "bo"),
        ("Wed 04 00:00", "Thu 05 00:00", "ann"),
    ]


def test_bounds_cut_the_cover_without_moving_handoffs() -> None:
    layer = Layer(name="l", members=["ann", "bo"], rotation=timedelta(days=1),
                  start=datetime(2026, 3, 2), active_from=datetime(2026, 3, 2, 12),
                  until=datetime(2026, 3, 4, 6))  # fmt: skip
    assert rota(layer, days=3) == [
        ("Mon 02 00:00", "Mon 02 12:00", None),
        ("Mon 02 12:00", "Tue 03 00:00", "ann"),
        ("Tue 03 00:00", "Wed 04 00:00", "bo"),
        ("Wed 04 00:00", "Wed 04 06:00", "ann"),
        ("Wed 04 06:00", "Thu 05 00:00", None),
    ]


def test_a_layer_in_its_own_zone_hands_off_at_its_local_time_across_its_dst() -> None:
    # New York moves to summer time on 2026-03-08, Berlin only on 2026-03-29: the layer
    # hands off at 09:00 New York time, so 14:00 UTC, then 13:00 UTC.
    layer = Layer(name="ny", members=["ann", "bo"], rotation=timedelta(days=7),
                  start=datetime(2026, 3, 2, 9), timezone="America/New_York")  # fmt: skip
    shifts = final_rota(Schedule("s", "Europe/Berlin", [layer]), [], z("2026-03-02T14:00"),
                        z("2026-03-16T13:00"))  # fmt: skip
    assert [(s.start, s.end, s.login) for s in shifts] == [
        (z("2026-03-02T14:00"), z("2026-03-09T13:00"), "ann"),
        (z("2026-03-09T13:00"), z("2026-03-16T13:00"), "bo"),
    ]


def test_a_layer_without_the_new_keys_is_what_it_was() -> None:
    layer = base(["ann", "bo"], restrict=Restriction(days=["mon"], from_=time(9), to=time(17)))
    assert rota(layer, days=2) == [
        ("Mon 02 00:00", "Mon 02 09:00", None),
        ("Mon 02 09:00", "Mon 02 17:00", "ann"),
        ("Mon 02 17:00", "Wed 04 00:00", None),
    ]


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        ('restrictions = [{ days = [] }]',
         'schedules[1 "s"].layers[1 "l"].restrictions[1].days: restriction leaves no days'),
        ('until = "2026-01-01T08:00"',
         'schedules[1 "s"].layers[1 "l"].until: until must be after start (and active_from)'),
        ('timezone = "Mars/Base"', "expected an IANA time zone"),
    ],
)  # fmt: skip
def test_config_check_refuses_bad_windows_and_bounds(
    layer: str, expected: str, tmp_path: Path, capsys: Capture
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[[schedules]]\nname = "s"\ntimezone = "UTC"\n[[schedules.layers]]\nname = "l"\n'
        f'members = ["a"]\nrotation = "1d"\nstart = "2026-01-01T09:00"\n{layer}\n'
    )
    assert run(["--config", str(config), "config", "check"]) == 2
    assert expected in capsys.readouterr().err


def test_config_check_refuses_a_layer_of_nobody(tmp_path: Path, capsys: Capture) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[[schedules]]\nname = "s"\ntimezone = "UTC"\n[[schedules.layers]]\nname = "l"\n'
        'members = [""]\nrotation = "1d"\nstart = "2026-01-01T09:00"\n'
    )
    assert run(["--config", str(config), "config", "check"]) == 2
    assert "a layer needs at least one member who is someone" in capsys.readouterr().err
