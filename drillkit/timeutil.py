"""Timestamps: UTC ISO-8601 with time zone and microseconds, everywhere in a run's files."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``2024-05-01T12:00:00.000000+00:00``: always microseconds, always the zone."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(text: str | None) -> datetime | None:
    """A timestamp from a log or the playbook's timeline; None stays None.

    Ansible writes ``...Z``; a timestamp without a zone is taken as UTC (the playbook's
    ``ansible_date_time.iso8601*`` facts are UTC).
    """
    if text is None or text == "":
        return None
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """``end - start`` in seconds (microsecond precision), or None when either is missing."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 6)
