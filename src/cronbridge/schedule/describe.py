"""Plain-English descriptions of cron expressions, for the CLI and the console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cronbridge.schedule import fields as f

if TYPE_CHECKING:
    from cronbridge.schedule.cron import CronFields

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def join(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def name(value: str, spec: f.FieldSpec) -> str:
    """A field value for people: month and weekday names, numbers otherwise."""
    number = f.parse_value(value, spec)
    if spec is f.MONTH:
        return _MONTH_NAMES[number - 1]
    if spec is f.DAY_OF_WEEK:
        return _DAY_NAMES[number - 1]
    return str(number)


def item_words(item: str, spec: f.FieldSpec, unit: str) -> str:
    """One list item: '5', '9 through 17', 'every 10 {unit}s from 5'."""
    base, slash, step = item.partition("/")
    if slash:
        start = "" if base in ("*", str(spec.low)) else f" from {name(base.split('-')[0], spec)}"
        every = f"every {unit}" if int(step) == 1 else f"every {step} {unit}s"
        return every + start
    first, dash, last = base.partition("-")
    return f"{name(first, spec)} through {name(last, spec)}" if dash else name(first, spec)


def list_words(text: str, spec: f.FieldSpec, unit: str) -> str:
    """A whole list field."""
    return join([item_words(item, spec, unit) for item in text.split(",")])


def clock(hour: str, minute: str) -> str:
    return f"{int(hour):02d}:{int(minute):02d}"


def is_clock(minute: str, hour: str) -> bool:
    """Whether the time reads as clock times ('at 10:00 and 15:00')."""
    return minute.isdigit() and all(h.isdigit() for h in hour.split(","))


def time_words(minute: str, hour: str) -> str:
    """'at 10:15', 'every 30 minutes', 'at minute 5 of every hour, hours 9 through 17'."""
    if is_clock(minute, hour):
        return "at " + join([clock(h, minute) for h in hour.split(",")])
    if minute == "*":
        words = "every minute"
    elif minute.isdigit():
        words = f"at minute {int(minute)} of every hour"
    elif "/" in minute and "," not in minute:
        words = item_words(minute, f.MINUTE, "minute")
    else:
        words = "at minutes " + list_words(minute, f.MINUTE, "minute")
    if hour == "*":
        return words
    return f"{words}, hours {list_words(hour, f.HOUR, 'hour')}"


def month_words(month: str) -> str:
    """'every month', 'March', 'January through March'."""
    return "every month" if month == "*" else list_words(month, f.MONTH, "month")


def day_words(dom: str, dow: str, month: str) -> str:
    """The day part: 'every day', 'on the last Friday of every month', ...."""
    of_month = f" of {month_words(month)}"
    in_month = "" if month == "*" else f" in {month_words(month)}"
    if dom == "?":
        return weekday_words(dow, of_month, in_month)
    if dom == "*":
        return "every day" + in_month
    if dom == "L":
        return "on the last day" + of_month
    if dom == "LW":
        return "on the last weekday" + of_month
    if dom.endswith("W"):
        return f"on the weekday nearest day {int(dom[:-1])}" + of_month
    return "on day " + list_words(dom, f.DAY_OF_MONTH, "day") + of_month


def weekday_words(dow: str, of_month: str, in_month: str) -> str:
    """The day-of-week forms."""
    if dow == "*":
        return "every day" + in_month
    if dow == "L":
        return "on Saturday" + in_month
    if "#" in dow:
        day, _, nth = dow.partition("#")
        return f"on the {_ORDINALS[int(nth) - 1]} {name(day, f.DAY_OF_WEEK)}" + of_month
    if dow.endswith("L"):
        return f"on the last {name(dow[:-1], f.DAY_OF_WEEK)}" + of_month
    return "on " + list_words(dow, f.DAY_OF_WEEK, "day") + in_month


def year_words(year: str) -> str:
    """'', ', 2019–2022', ', in 2020'."""
    if year == "*":
        return ""
    first, dash, last = year.partition("-")
    if dash and "," not in year and "/" not in year:
        return f", {first}–{last}"
    return ", in " + list_words(year, f.YEAR, "year")


def every_one(text: str, spec: f.FieldSpec) -> str:
    """`*/1` (or `low/1`) is `*`: 'every minute', never 'every 1 minutes'."""
    return "*" if text in ("*/1", f"{spec.low}/1") else text


def describe_cron(text: CronFields) -> str:
    """A cron expression in plain English."""
    text = text._replace(
        minute=every_one(text.minute, f.MINUTE), hour=every_one(text.hour, f.HOUR),
        day_of_month=every_one(text.day_of_month, f.DAY_OF_MONTH), month=every_one(text.month, f.MONTH),
    )
    time = time_words(text.minute, text.hour)
    days = day_words(text.day_of_month, text.day_of_week, text.month)
    if days == "every day" and not is_clock(text.minute, text.hour):
        days = ""
    return " ".join(part for part in (time, days) if part) + year_words(text.year)
