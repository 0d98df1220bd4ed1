"""The candidate rule compares distinct wordings instead of every pair of incidents: it
must find exactly the groups the incident-by-incident greedy found, on any data."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.console.config.model import ProblemsConfig
from opsdesk.console.domain import problem_rules
from opsdesk.console.domain.problem_rules import similarity, title_words
from opsdesk.store import Incident
from tests.test_problems import incident

WORDS = ["checkout", "latency", "p95", "timeout", "refund", "job", "stuck", "disk", "full"]


def old_title_groups(pool, words, rules):  # type: ignore[no-untyped-def]
    """The first version, verbatim: every seed against every incident, every round."""
    left = list(pool)
    groups = []
    while len(left) >= rules.min_incidents:
        best = None
        for seed in reversed(left):
            alike = [
                i for i in left if similarity(words[seed.id], words[i.id]) >= rules.title_similarity
            ]
            shared = tuple(w for w in words[seed.id] if all(w in words[i.id] for i in alike))
            if not shared:
                continue
            if best is None or len(alike) > len(best[0]):
                best = (alike, shared)
        if best is None or len(best[0]) < rules.min_incidents:
            break
        group, shared = best
        groups.append(([i.id for i in group], shared))
        chosen = {i.id for i in group}
        left = [i for i in left if i.id not in chosen]
    return groups


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
            st.sampled_from(["checkout", "payments"]),
            st.floats(0, 20),
        ),
        max_size=40,
    ),
    st.integers(2, 4),
    st.sampled_from([0.3, 0.5, 0.8, 1.0]),
)
def test_the_fast_rule_finds_the_groups_the_old_one_did(
    rows: list[tuple[list[str], str, float]], least: int, alike: float
) -> None:
    rules = ProblemsConfig(min_incidents=least, title_similarity=alike)
    incidents: list[Incident] = [
        incident(n, " ".join(title), service, days_ago=ago)
        for n, (title, service, ago) in enumerate(rows, start=1)
    ]
    incidents.sort(key=lambda i: (i.created_at, i.id))
    words = {i.id: title_words(i.title) for i in incidents}
    by_service: dict[str, list[Incident]] = defaultdict(list)
    for i in incidents:
        if words[i.id]:
            by_service[i.service].append(i)
    for service, pool in sorted(by_service.items()):
        new = problem_rules._title_groups(service, pool, words, rules)
        old = old_title_groups(pool, words, rules)
        assert [(set(c.incidents), c.shared_words) for c in new] == [
            ({f"INC-{n}" for n in ids}, shared) for ids, shared in old
        ]
