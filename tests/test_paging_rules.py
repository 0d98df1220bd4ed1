"""The pure paging rules, with every instant pinned: urgency from priority, who is reached
by which method and from when (notification rules, working hours in the person's own
zone across DST changes), how escalation steps follow one another, and the signed
acknowledgement links. No store, no clock: records are built directly."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opsdesk.console.config.model import (
    EscalationLevel,
    EscalationPolicy,
    NotifyRule,
    Person,
    Restriction,
)
from opsdesk.console.domain.ack_links import BadLink, LinkClaim, read, sign, verify
from opsdesk.console.domain.paging import (
    STALE_STEP,
    Delivery,
    Step,
    deliveries,
    due_step,
    next_step,
    next_working,
    urgency_of,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
MINUTE = timedelta(minutes=1)

# Saturday 2026-03-28 10:00 UTC (11:00 CET); EU summer time starts Sunday 2026-03-29.
SATURDAY = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
# Monday 2026-03-30 09:00 in Berlin, now CEST (+02:00): 07:00 UTC.
BERLIN_MONDAY_0900 = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def office_hours() -> Restriction:
    return Restriction(days=["mon", "tue", "wed", "thu", "fri"], from_=time(9), to=time(17))


def person(**fields: object) -> Person:
    base: dict[str, object] = {
        "login": "alice",
        "email": "alice@example.com",
        "ntfy": "alice-topic-x7",
        "webhook": "https://hooks.example.com/alice",
    }
    base.update(fields)
    return Person(**base)  # type: ignore[arg-type]


# Urgency ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "urgency"), [("P1", "high"), ("P2", "high"), ("P3", "low"), ("P4", "low")]
)
def test_urgency_follows_priority(priority: str, urgency: str) -> None:
    assert urgency_of(priority) == urgency


# Deliveries without rules -------------------------------------------------------------


@pytest.mark.parametrize("urgency", ["high", "low"])
def test_without_rules_every_method_the_person_has_at_once(urgency: str) -> None:
    alice = person(contacts={"apprise": "tgram://bot/alice", "signal": ""})
    assert deliveries(alice, urgency, SATURDAY) == [  # type: ignore[arg-type]
        Delivery("email", "alice@example.com", SATURDAY),
        Delivery("ntfy", "alice-topic-x7", SATURDAY),
        Delivery("webhook", "https://hooks.example.com/alice", SATURDAY),
        Delivery("apprise", "tgram://bot/alice", SATURDAY),
    ]


@pytest.mark.parametrize("urgency", ["high", "low"])
def test_without_rules_empty_addresses_are_skipped(urgency: str) -> None:
    bob = person(login="bob", email="", webhook="", contacts={"apprise": ""})
    assert deliveries(bob, urgency, SATURDAY) == [  # type: ignore[arg-type]
        Delivery("ntfy", "alice-topic-x7", SATURDAY)
    ]
    nobody = Person(login="carol")
    assert deliveries(nobody, urgency, SATURDAY) == []  # type: ignore[arg-type]


# Deliveries with rules ----------------------------------------------------------------


RULES = [
    NotifyRule(method="email", after=30 * MINUTE, urgency="high"),
    NotifyRule(method="ntfy", after=timedelta(0), urgency="high"),
    NotifyRule(method="sms", after=timedelta(0), urgency="any"),  # no address: skipped
    NotifyRule(method="email", after=5 * MINUTE, urgency="any"),
    NotifyRule(method="webhook", after=10 * MINUTE, urgency="low"),
    NotifyRule(method="apprise", after=2 * MINUTE, urgency="any"),
]


def test_rules_for_high_urgency_in_rule_order_at_page_time_plus_after() -> None:
    alice = person(contacts={"apprise": "tgram://bot/alice"}, notify=RULES)
    assert deliveries(alice, "high", SATURDAY) == [
        Delivery("email", "alice@example.com", SATURDAY + 30 * MINUTE),
        Delivery("ntfy", "alice-topic-x7", SATURDAY),
        Delivery("email", "alice@example.com", SATURDAY + 5 * MINUTE),
        Delivery("apprise", "tgram://bot/alice", SATURDAY + 2 * MINUTE),
    ]


def test_rules_for_low_urgency_in_rule_order_at_page_time_plus_after() -> None:
    alice = person(contacts={"apprise": "tgram://bot/alice"}, notify=RULES)
    assert deliveries(alice, "low", SATURDAY) == [
        Delivery("email", "alice@example.com", SATURDAY + 5 * MINUTE),
        Delivery("webhook", "https://hooks.example.com/alice", SATURDAY + 10 * MINUTE),
        Delivery("apprise", "tgram://bot/alice", SATURDAY + 2 * MINUTE),
    ]


def test_rule_for_a_method_without_address_is_skipped() -> None:
    bob = person(login="bob", ntfy="", notify=[NotifyRule("ntfy"), NotifyRule("email")])
    assert deliveries(bob, "high", SATURDAY) == [Delivery("email", "alice@example.com", SATURDAY)]


def test_rules_only_for_high_urgency_leave_low_pages_undelivered() -> None:
    alice = person(notify=[NotifyRule("ntfy", urgency="high")])
    assert deliveries(alice, "low", SATURDAY) == []
    assert deliveries(alice, "high", SATURDAY) == [Delivery("ntfy", "alice-topic-x7", SATURDAY)]


# Working hours ------------------------------------------------------------------------


def test_low_urgency_on_saturday_waits_for_monday_in_the_persons_zone() -> None:
    alice = person(timezone="Europe/Berlin", working_hours=office_hours())
    got = next_working(alice, SATURDAY)
    assert got == BERLIN_MONDAY_0900
    local = got.astimezone(BERLIN)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert local.utcoffset() == timedelta(hours=2)  # summer time began on the Sunday
    # the same page before the change was at +01:00
    assert SATURDAY.astimezone(BERLIN).utcoffset() == timedelta(hours=1)
    assert deliveries(alice, "low", SATURDAY) == [
        Delivery("email", "alice@example.com", BERLIN_MONDAY_0900),
        Delivery("ntfy", "alice-topic-x7", BERLIN_MONDAY_0900),
        Delivery("webhook", "https://hooks.example.com/alice", BERLIN_MONDAY_0900),
    ]


def test_high_urgency_never_waits() -> None:
    alice = person(timezone="Europe/Berlin", working_hours=office_hours())
    assert deliveries(alice, "high", SATURDAY) == [
        Delivery("email", "alice@example.com", SATURDAY),
        Delivery("ntfy", "alice-topic-x7", SATURDAY),
        Delivery("webhook", "https://hooks.example.com/alice", SATURDAY),
    ]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 27, 8, 0, tzinfo=UTC),  # Friday 09:00 CET: the first minute
        datetime(2026, 3, 27, 12, 30, tzinfo=UTC),  # Friday 13:30 CET
        datetime(2026, 3, 27, 15, 59, tzinfo=UTC),  # Friday 16:59 CET: the last minute
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),  # Monday 09:00 CEST
    ],
)
def test_low_urgency_inside_working_hours_is_unchanged(at: datetime) -> None:
    alice = person(timezone="Europe/Berlin", working_hours=office_hours())
    assert next_working(alice, at) == at
    assert deliveries(alice, "low", at)[0] == Delivery("email", "alice@example.com", at)


def test_working_hours_end_is_exclusive() -> None:
    alice = person(timezone="Europe/Berlin", working_hours=office_hours())
    friday_1700 = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # 17:00 CET
    assert next_working(alice, friday_1700) == BERLIN_MONDAY_0900


def test_working_hours_are_read_in_the_persons_zone_not_utc() -> None:
    # 08:30 UTC on a Friday is 09:30 in Berlin (inside) but 03:30 in New York (outside).
    at = datetime(2026, 3, 27, 8, 30, tzinfo=UTC)
    berlin = person(timezone="Europe/Berlin", working_hours=office_hours())
    new_york = person(timezone="America/New_York", working_hours=office_hours())
    assert next_working(berlin, at) == at
    assert next_working(new_york, at) == datetime(2026, 3, 27, 13, 0, tzinfo=UTC)  # 09:00 EDT


def test_rule_delay_then_working_hours() -> None:
    alice = person(
        timezone="Europe/Berlin",
        working_hours=office_hours(),
        notify=[NotifyRule("email"), NotifyRule("ntfy", after=10 * MINUTE)],
    )
    friday_1655 = datetime(2026, 3, 27, 15, 55, tzinfo=UTC)  # 16:55 CET
    assert deliveries(alice, "low", friday_1655) == [
        Delivery("email", "alice@example.com", friday_1655),
        Delivery("ntfy", "alice-topic-x7", BERLIN_MONDAY_0900),  # 17:05 is after hours
    ]
    assert deliveries(alice, "high", friday_1655) == [
        Delivery("email", "alice@example.com", friday_1655),
        Delivery("ntfy", "alice-topic-x7", friday_1655 + 10 * MINUTE),
    ]


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 10, 30, 22, 0, tzinfo=UTC),  # Friday 18:00 EDT
        datetime(2026, 10, 31, 15, 0, tzinfo=UTC),  # Saturday 11:00 EDT
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # Sunday 01:30 EDT, the first of two
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # Sunday 01:30 EST, the second
        datetime(2026, 11, 2, 13, 59, tzinfo=UTC),  # Monday 08:59 EST
    ],
)
def test_new_york_weekend_across_fall_back_waits_for_monday_0900_est(at: datetime) -> None:
    bob = person(login="bob", timezone="America/New_York", working_hours=office_hours())
    got = next_working(bob, at)
    assert got == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert got.astimezone(NEW_YORK).utcoffset() == timedelta(hours=-5)
    assert at.astimezone(NEW_YORK).weekday() in (4, 5, 6, 0)


def night_worker() -> Person:
    """Tokyo (no DST), windows starting mon–fri 22:00 and ending 06:00 the next day."""
    return person(
        login="night",
        timezone="Asia/Tokyo",
        working_hours=Restriction(
            days=["mon", "tue", "wed", "thu", "fri"], from_=time(22), to=time(6)
        ),
    )


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (tokyo(23, 22), tokyo(23, 22)),  # Monday 22:00: the window opens
        (tokyo(24, 3), tokyo(24, 3)),  # Tuesday 03:00: in Monday's window
        (tokyo(24, 5, 59), tokyo(24, 5, 59)),  # its last minute
        (tokyo(24, 6), tokyo(24, 22)),  # Tuesday 06:00: closed until 22:00
        (tokyo(24, 12), tokyo(24, 22)),  # Tuesday noon
        (tokyo(28, 3), tokyo(28, 3)),  # Saturday 03:00: Friday's window runs on
        (tokyo(28, 12), tokyo(30, 22)),  # Saturday noon: no window starts Sat or Sun
        (tokyo(29, 23), tokyo(30, 22)),  # Sunday 23:00: Sunday is not a start day
        (tokyo(30, 3), tokyo(30, 22)),  # Monday 03:00: would be Sunday's window
    ],
)
def test_restriction_crossing_midnight(at: datetime, expected: datetime) -> None:
    assert next_working(night_worker(), at) == expected


def test_night_worker_utc_instants() -> None:
    saturday_noon_tokyo = datetime(2026, 3, 28, 3, 0, tzinfo=UTC)
    assert next_working(night_worker(), saturday_noon_tokyo) == datetime(
        2026, 3, 30, 13, 0, tzinfo=UTC
    )
    assert deliveries(night_worker(), "low", saturday_noon_tokyo)[0] == Delivery(
        "email", "alice@example.com", datetime(2026, 3, 30, 13, 0, tzinfo=UTC)
    )


def test_no_working_hours_or_no_days_means_any_time() -> None:
    assert next_working(person(timezone="Europe/Berlin"), SATURDAY) == SATURDAY
    no_days = Restriction(days=[], from_=time(9), to=time(17))
    assert next_working(person(working_hours=no_days), SATURDAY) == SATURDAY


# Escalation steps ---------------------------------------------------------------------


T = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)


def policy(
    repeat: int = 0, repeat_after: timedelta = 20 * MINUTE, *afters: int
) -> EscalationPolicy:
    minutes = afters or (0, 15, 30)
    return EscalationPolicy(
        service="api",
        levels=[EscalationLevel(after=m * MINUTE, person=f"p{i}") for i, m in enumerate(minutes)],
        repeat=repeat,
        repeat_after=repeat_after,
    )


def test_level_two_is_due_its_gap_after_level_one_paged() -> None:
    assert next_step(policy(), 1, 1, T) == Step(2, 1, T + 15 * MINUTE)


def test_a_late_level_is_followed_by_the_gap_not_the_absolute_delay() -> None:
    t2 = T + timedelta(hours=3)  # level 2 paged late (the pager was down)
    assert next_step(policy(), 2, 1, t2) == Step(3, 1, t2 + 15 * MINUTE)


def test_last_level_without_repeat_ends_the_policy() -> None:
    assert next_step(policy(repeat=0), 3, 1, T) is None


def test_last_level_with_repeat_starts_again_from_level_one() -> None:
    p = policy(repeat=1, repeat_after=20 * MINUTE)
    assert next_step(p, 3, 1, T) == Step(1, 2, T + 20 * MINUTE)
    assert next_step(p, 1, 2, T) == Step(2, 2, T + 15 * MINUTE)
    assert next_step(p, 2, 2, T) == Step(3, 2, T + 15 * MINUTE)
    assert next_step(p, 3, 2, T) is None


def test_repeat_two_gives_three_rounds() -> None:
    p = policy(repeat=2, repeat_after=45 * MINUTE)
    assert next_step(p, 3, 1, T) == Step(1, 2, T + 45 * MINUTE)
    assert next_step(p, 3, 2, T) == Step(1, 3, T + 45 * MINUTE)
    assert next_step(p, 3, 3, T) is None


def test_single_level_policy() -> None:
    assert next_step(policy(0, 20 * MINUTE, 5), 1, 1, T) is None
    assert next_step(policy(1, 20 * MINUTE, 5), 1, 1, T) == Step(1, 2, T + 20 * MINUTE)


def test_non_increasing_afters_never_give_a_negative_gap() -> None:
    p = policy(0, 20 * MINUTE, 0, 30, 10, 10, 25)
    assert next_step(p, 1, 1, T) == Step(2, 1, T + 30 * MINUTE)
    assert next_step(p, 2, 1, T) == Step(3, 1, T)  # 10 - 30: clamped to 0
    assert next_step(p, 3, 1, T) == Step(4, 1, T)  # equal: 0
    assert next_step(p, 4, 1, T) == Step(5, 1, T + 15 * MINUTE)
    assert next_step(p, 5, 1, T) is None


def test_due_step_before_at_and_after_due() -> None:
    p = policy()
    due = T + 15 * MINUTE
    step = Step(2, 1, due)
    assert due_step(p, 1, 1, T, due - timedelta(seconds=1)) is None
    assert due_step(p, 1, 1, T, due) == step
    assert due_step(p, 1, 1, T, due + timedelta(hours=5)) == step
    assert due_step(p, 1, 1, T, due + STALE_STEP) == step


def test_due_step_overdue_by_more_than_a_day_is_stale() -> None:
    assert timedelta(days=1) == STALE_STEP
    p = policy()
    due = T + 15 * MINUTE
    assert due_step(p, 1, 1, T, due + STALE_STEP + timedelta(seconds=1)) is None
    assert due_step(p, 1, 1, T, due + timedelta(days=7)) is None


def test_due_step_of_an_exhausted_policy_is_none() -> None:
    assert due_step(policy(repeat=0), 3, 1, T, T + timedelta(hours=1)) is None
    p = policy(repeat=1, repeat_after=20 * MINUTE)
    assert due_step(p, 3, 1, T, T + 20 * MINUTE) == Step(1, 2, T + 20 * MINUTE)
    assert due_step(p, 3, 2, T, T + timedelta(hours=1)) is None


# Acknowledgement links ----------------------------------------------------------------


KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ID = 42
INCIDENT = "INC-7"
LOGIN = "alice"
EXPIRES = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
STAMP = 1774699200  # EXPIRES as a Unix time
NOW = EXPIRES - timedelta(hours=1)
TOKEN = sign(KEY, ID, INCIDENT, LOGIN, EXPIRES)
MAC = TOKEN.rsplit(".", 1)[1]


def test_token_shape() -> None:
    assert int(EXPIRES.timestamp()) == STAMP
    assert TOKEN.startswith(f"{ID}.{STAMP}.")
    assert len(MAC) == 43
    assert set(MAC) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert sign(KEY, ID, INCIDENT, LOGIN, EXPIRES) == TOKEN  # deterministic


def test_sign_then_verify_returns_the_claim() -> None:
    assert verify(KEY, TOKEN, INCIDENT, LOGIN, NOW) == LinkClaim(ID, EXPIRES)
    assert read(TOKEN) == LinkClaim(ID, EXPIRES)
    assert verify(KEY, TOKEN, INCIDENT, LOGIN, EXPIRES - timedelta(seconds=1)) == LinkClaim(
        ID, EXPIRES
    )


def test_expiry_is_kept_to_the_whole_second_below() -> None:
    token = sign(KEY, ID, INCIDENT, LOGIN, EXPIRES + timedelta(milliseconds=999))
    assert token == TOKEN
    assert verify(KEY, token, INCIDENT, LOGIN, NOW).expires == EXPIRES


@pytest.mark.parametrize(
    ("incident", "login"),
    [("INC-8", LOGIN), (INCIDENT, "bob"), ("INC-8", "bob"), ("inc-7", LOGIN), (INCIDENT, "")],
)
def test_link_cannot_be_aimed_at_another_incident_or_person(incident: str, login: str) -> None:
    with pytest.raises(BadLink, match="^signature does not match$"):
        verify(KEY, TOKEN, incident, login, NOW)


def test_another_key_fails() -> None:
    with pytest.raises(BadLink, match="^signature does not match$"):
        verify(OTHER_KEY, TOKEN, INCIDENT, LOGIN, NOW)
    other = sign(OTHER_KEY, ID, INCIDENT, LOGIN, EXPIRES)
    assert other != TOKEN
    with pytest.raises(BadLink, match="^signature does not match$"):
        verify(KEY, other, INCIDENT, LOGIN, NOW)


def flip(ch: str) -> str:
    return "A" if ch != "A" else "B"


@pytest.mark.parametrize(
    "token",
    [
        f"{ID + 1}.{STAMP}.{MAC}",  # another notification
        f"{ID - 1}.{STAMP}.{MAC}",
        f"{ID}.{STAMP + 1}.{MAC}",  # a later expiry
        f"{ID}.{STAMP + 86400}.{MAC}",
        f"{ID}.{STAMP - 1}.{MAC}",
        f"{ID}.{STAMP}.{flip(MAC[0])}{MAC[1:]}",  # altered MAC
        f"{ID}.{STAMP}.{MAC[:-1]}{flip(MAC[-1])}",
        f"{ID}.{STAMP}.{MAC[::-1]}",
    ],
)
def test_altered_tokens_fail_the_signature(token: str) -> None:
    assert token != TOKEN
    with pytest.raises(BadLink, match="^signature does not match$"):
        verify(KEY, token, INCIDENT, LOGIN, NOW)


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "..",
        str(ID),
        f"{ID}.{STAMP}",
        f"{ID}.{STAMP}.",
        f".{STAMP}.{MAC}",  # no id
        f"{ID}..{MAC}",  # no expiry
        f"{ID}.{STAMP}.{MAC[:-1]}",  # MAC too short
        f"{ID}.{STAMP}.{MAC}A",  # MAC too long
        f"{ID}.{STAMP}.{MAC}=",  # base64 padding
        f"{ID}.{STAMP}.{MAC[:-1]}+",  # standard, not URL-safe, base64
        f"{ID}.{STAMP}.{MAC[:-1]}/",
        f"{'1' * 19}.{STAMP}.{MAC}",  # id longer than 18 digits
        f"{ID}.{'1' * 13}.{MAC}",  # expiry longer than 12 digits
        f"-{ID}.{STAMP}.{MAC}",  # signs are not digits
        f"+{ID}.{STAMP}.{MAC}",
        f"{ID}.-{STAMP}.{MAC}",
        f"4x.{STAMP}.{MAC}",  # non-digits
        f"{ID}.17746992OO.{MAC}",
        f"0x2a.{STAMP}.{MAC}",
        f"{ID}.{STAMP}.{MAC}.",  # extra dots
        f"{ID}.{STAMP}.{MAC}.{MAC}",
        f".{TOKEN}",
        f"{ID}..{STAMP}.{MAC}",
        f"{ID}.{STAMP}..{MAC}",
        f"{ID},{STAMP},{MAC}",
        f" {TOKEN}",  # whitespace
        f"{TOKEN} ",
        f"{ID} .{STAMP}.{MAC}",
        f"{TOKEN}\r\n",
        TOKEN * 2,  # too long
        TOKEN + "A" * 4096,
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(BadLink, match="^malformed token$"):
        read(token)
    with pytest.raises(BadLink, match="^malformed token$"):
        verify(KEY, token, INCIDENT, LOGIN, NOW)


@pytest.mark.parametrize(
    "now", [EXPIRES, EXPIRES + timedelta(microseconds=1), EXPIRES + timedelta(days=30)]
)
def test_at_or_after_expiry_the_link_is_expired(now: datetime) -> None:
    with pytest.raises(BadLink, match="^expired$"):
        verify(KEY, TOKEN, INCIDENT, LOGIN, now)


def test_expiry_is_compared_as_an_instant_whatever_the_zone() -> None:
    just_before = (EXPIRES - timedelta(seconds=1)).astimezone(NEW_YORK)
    assert verify(KEY, TOKEN, INCIDENT, LOGIN, just_before) == LinkClaim(ID, EXPIRES)
    with pytest.raises(BadLink, match="^expired$"):
        verify(KEY, TOKEN, INCIDENT, LOGIN, EXPIRES.astimezone(BERLIN))


def test_a_bad_signature_is_reported_before_expiry() -> None:
    # An expired link for another person says "signature", not "expired".
    with pytest.raises(BadLink, match="^signature does not match$"):
        verify(KEY, TOKEN, INCIDENT, "bob", EXPIRES + timedelta(days=1))


# Any text that is not exactly the signed token never verifies.

TOKEN_CHARS = "0123456789.ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_=+/ "


@st.composite
def ascii_edits(draw: st.DrawFn) -> str:
    """The real token with one character replaced or removed (printable ASCII only)."""
    index = draw(st.integers(0, len(TOKEN) - 1))
    if draw(st.booleans()):
        return TOKEN[:index] + TOKEN[index + 1 :]
    replacement = draw(st.sampled_from(TOKEN_CHARS))
    return TOKEN[:index] + replacement + TOKEN[index + 1 :]


token_shaped = st.from_regex(
    # every expiry up to 11 digits (year 5138); longer ones: see the out-of-range test
    r"\A[0-9]{1,18}\.[0-9]{1,11}\.[A-Za-z0-9_-]{43}\Z",
    fullmatch=True,
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=TOKEN_CHARS), token_shaped, ascii_edits()))
@example(TOKEN[:-1])
@example(TOKEN.replace(".", ":"))
@example(f"{ID}.{STAMP}.{OTHER_KEY.hex()[:43]}")
def test_text_that_is_not_the_signed_token_never_verifies(text: str) -> None:
    if text == TOKEN:
        return
    with pytest.raises(BadLink):
        verify(KEY, text, INCIDENT, LOGIN, NOW)


@st.composite
def any_single_edit(draw: st.DrawFn) -> str:
    """The real token with one character of any kind inserted or substituted."""
    index = draw(st.integers(0, len(TOKEN)))
    char = draw(st.characters())
    if draw(st.booleans()) or index == len(TOKEN):
        return TOKEN[:index] + char + TOKEN[index:]
    return TOKEN[:index] + char + TOKEN[index + 1 :]


ALIASES = [
    pytest.param(TOKEN + "\n", id="trailing-newline"),
    pytest.param("0" + TOKEN, id="leading-zero-id"),
    pytest.param(f"{ID}.0{STAMP}.{MAC}", id="leading-zero-expiry"),
    pytest.param(f"\u0664\u0662.{STAMP}.{MAC}", id="arabic-indic-digits-id"),
    pytest.param(f"{ID}.{STAMP}".replace("1", "\uff11") + f".{MAC}", id="fullwidth-digits"),
]


@pytest.mark.parametrize("alias", ALIASES)
def test_non_canonical_spellings_of_a_token_do_not_verify(alias: str) -> None:
    assert alias != TOKEN
    try:
        claim = verify(KEY, alias, INCIDENT, LOGIN, NOW)
    except BadLink:
        return
    raise AssertionError(f"{alias!r} verified as {claim}")


@settings(max_examples=300, deadline=None, database=None)
@given(any_single_edit())
@example(TOKEN + "\n")
@example("0" + TOKEN)
def test_no_single_character_edit_of_a_token_verifies(text: str) -> None:
    if text == TOKEN:
        return
    try:
        claim = verify(KEY, text, INCIDENT, LOGIN, NOW)
    except BadLink:
        return
    raise AssertionError(f"{text!r} verified as {claim}")


@pytest.mark.parametrize("stamp", ["253402300800", "999999999999"])
def test_an_out_of_range_expiry_is_a_bad_link(stamp: str) -> None:
    token = f"{ID}.{stamp}.{MAC}"
    with pytest.raises(BadLink):
        read(token)
    with pytest.raises(BadLink):
        verify(KEY, token, INCIDENT, LOGIN, NOW)


def test_the_largest_in_range_expiry_reads() -> None:
    # 9999-12-31T23:59:59Z is the last instant a datetime holds
    claim = read(f"{ID}.253402300799.{MAC}")
    assert claim == LinkClaim(ID, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC))
