"""On-call: the schedules from config and the overrides in force or coming up."""

from __future__ import annotations

from rich.text import Text

from opsdesk.console.durations import format_duration
from opsdesk.console.oncall import escalation, on_call_at
from opsdesk.screens.base import Row, StoreScreen
from opsdesk.screens.cells import cell, until


class OncallScreen(StoreScreen):
    TITLE = "On-call"
    FLEX_COLUMN = 2
    COLUMNS = ("Schedule", "Layer", "Who", "When", "Note")
    EMPTY = "no schedules in config"

    async def load(self) -> None:
        config, now = self.ops.config, self.ops.now()
        overrides = await self.ops.store.overrides.not_ended(now)
        summary = Text("Schedules ", style="bold")
        summary.append(f"{len(config.schedules)}  ")
        summary.append("Overrides ", style="bold")
        summary.append(f"{len(overrides)} now or upcoming  ")
        summary.append("Escalation policies ", style="bold")
        summary.append(f"{len(config.escalation_policies)}")
        self.set_summary(summary)
        rows = []
        for schedule in config.schedules:
            now_on = on_call_at(schedule, overrides, now)
            who = now_on.login or "— nobody (gap) —"
            rows.append(
                Row(
                    key=f"{schedule.name}/now",
                    cells=(
                        cell(schedule.name, limit=16),
                        cell(f"NOW {now_on.source}", style="bold"),
                        cell(who, limit=200, style="bold" if now_on.login else "bold reverse red"),
                        cell(f"{now_on.since:%m-%d %H:%M}→{now_on.until:%m-%d %H:%M}Z"),
                        cell(f"next: {now_on.next_login or 'nobody'}", limit=22),
                    ),
                    search=f"{schedule.name} now {who} {now_on.next_login or ''}".casefold(),
                )
            )
        for schedule in config.schedules:
            for layer in schedule.layers:
                who = ", ".join(layer.members)
                rows.append(
                    Row(
                        key=f"{schedule.name}/{layer.name}",
                        cells=(
                            cell(schedule.name, limit=16),
                            cell(layer.name, limit=12),
                            cell(who, limit=200),
                            cell(f"every {format_duration(layer.rotation)}"),
                            cell(schedule.timezone, limit=22),
                        ),
                        search=f"{schedule.name} {layer.name} {who}".casefold(),
                    )
                )
        for policy in config.escalation_policies:
            for step in escalation(config, policy.service, overrides, now):
                after = format_duration(step.paged_at - now)
                rows.append(
                    Row(
                        key=f"{policy.service}/L{step.level}",
                        cells=(
                            cell(policy.service, limit=16),
                            cell(f"esc L{step.level}"),
                            cell(step.login or "— nobody —", limit=200),
                            cell(f"+{after} via {step.via}"),
                            cell(step.phone or step.email or "—", limit=22),
                        ),
                        search=f"{policy.service} escalation {step.login} {step.via}".casefold(),
                    )
                )
        for override in overrides:
            same_day = override.starts_at.date() == override.ends_at.date()
            end = f"{override.ends_at:%H:%M}" if same_day else f"{override.ends_at:%m-%d %H:%M}"
            window = f"{override.starts_at:%m-%d %H:%M}→{end}Z"
            rows.append(
                Row(
                    key=f"OVR-{override.id}",
                    cells=(
                        cell(override.schedule, limit=16),
                        cell("override"),
                        cell(override.login),
                        cell(window),
                        cell(f"{until(override.starts_at, now)}: {override.reason}", limit=22),
                    ),
                    search=f"{override.schedule} {override.login} {override.reason}".casefold(),
                )
            )
        self.rows = rows
