"""Go's time layouts (`"2006-01-02T15:04:05Z07:00"`) for Sprig's `now`, `date`, `dateInZone`, `unixEpoch`.

The wasm plugin runs with UTC as its local zone, so `date` formats in UTC; `dateInZone` loads an
IANA zone and, like Sprig, falls back to UTC for a name it cannot load.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcpgw.gotemplate.values import go_number

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
# Longest first where one token is a prefix of another, as Go's nextStdChunk tries them.
_TOKENS = ("January", "Jan", "Monday", "Mon", "MST", "2006", "002", "01", "02", "03", "04", "05", "06",
           "__2", "_2", "15", "1", "2", "3", "4", "5", "PM", "pm",
           "-07:00:00", "-070000", "-07:00", "-0700", "-07",
           "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07")


class GoTime:
    """A time.Time: prints as Go's Time.String()."""

    __slots__ = ("moment",)

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __str__(self) -> str:
        return go_format(self.moment, "2006-01-02 15:04:05.999999999 -0700 MST")


def _offset(moment: datetime, token: str) -> str:
    delta = moment.utcoffset() or timedelta(0)
    if token.startswith("Z") and delta == timedelta(0):
        return "Z"
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    shape = token.lstrip("Z-")
    if shape == "07":
        return f"{sign}{hh:02d}"
    if shape == "0700":
        return f"{sign}{hh:02d}{mm:02d}"
    if shape == "07:00":
        return f"{sign}{hh:02d}:{mm:02d}"
    if shape == "070000":
        return f"{sign}{hh:02d}{mm:02d}{ss:02d}"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}"


def _zone_name(moment: datetime) -> str:
    name = moment.tzname() or "UTC"
    if name[:1] in "+-":  # Go prints a zone without an abbreviation as its offset, -0700 style
        return _offset(moment, "-0700")
    return name


def _chunk(moment: datetime, token: str) -> str:
    hour12 = moment.hour % 12 or 12
    return {
        "January": _MONTHS[moment.month - 1], "Jan": _MONTHS[moment.month - 1][:3],
        "Monday": _DAYS[moment.weekday()], "Mon": _DAYS[moment.weekday()][:3], "MST": _zone_name(moment),
        "2006": f"{moment.year:04d}", "06": f"{moment.year % 100:02d}",
        "002": f"{moment.timetuple().tm_yday:03d}", "__2": f"{moment.timetuple().tm_yday:>3d}",
        "01": f"{moment.month:02d}", "1": str(moment.month),
        "02": f"{moment.day:02d}", "_2": f"{moment.day:>2d}", "2": str(moment.day),
        "15": f"{moment.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12),
        "04": f"{moment.minute:02d}", "4": str(moment.minute),
        "05": f"{moment.second:02d}", "5": str(moment.second),
        "PM": "PM" if moment.hour >= 12 else "AM", "pm": "pm" if moment.hour >= 12 else "am",
    }.get(token) or _offset(moment, token)


def go_format(moment: datetime, layout: str) -> str:
    """time.Time.Format(layout)."""
    out: list[str] = []
    i = 0
    nanos = moment.microsecond * 1000
    while i < len(layout):
        rest = layout[i:]
        if rest[:1] in ".," and len(rest) > 1 and rest[1] in "09":
            run = len(rest) - 1 - len(rest[1:].lstrip(rest[1]))
            after = rest[1 + run:2 + run]
            if not after.isdigit():
                digits = f"{nanos:09d}"[:run]
                if rest[1] == "9":
                    digits = digits.rstrip("0")
                    out.append(rest[0] + digits if digits else "")
                else:
                    out.append(rest[0] + digits)
                i += 1 + run
                continue
        if rest.startswith("_2006"):  # a literal "_" and the year, as Go reads it
            out.append("_")
            i += 1
            continue
        token = next((t for t in _TOKENS if rest.startswith(t)), None)
        if token in ("Jan", "Mon", "January", "Monday") and rest[len(token):len(token) + 1].islower():
            token = None  # "Janet", "Month": not a token, as in Go
        if token is None:
            out.append(layout[i])
            i += 1
            continue
        out.append(_chunk(moment, token))
        i += len(token)
    return "".join(out)


def _zone(name: str) -> tzinfo:
    if name in ("", "UTC", "Local"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def to_moment(value: Any) -> datetime:
    """Sprig's toDate: a time, or Unix seconds; anything else is now."""
    if isinstance(value, GoTime):
        return value.moment
    value = go_number(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)


def now() -> GoTime:
    return GoTime(datetime.now(UTC))


def date(layout: str, value: Any) -> str:
    return go_format(to_moment(value).astimezone(UTC), layout)


def date_in_zone(layout: str, value: Any, zone: str) -> str:
    return go_format(to_moment(value).astimezone(_zone(zone)), layout)


def unix_epoch(value: Any) -> str:
    return str(int(to_moment(value).timestamp()))
