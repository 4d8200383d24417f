"""Which expressions are valid: tables from AWS's documentation, and the error AWS returns."""

from __future__ import annotations

import pytest

from cronbridge.errors import AwsError, ValidationError
from cronbridge.schedule import MESSAGE, ScheduleError, parse
from cronbridge.schedule.fields import values_of

# From the EventBridge "Cron expressions reference" and Scheduler "Schedule types" pages.
AWS_EXAMPLES = [
    "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)",
    "cron(0 18 ? * MON-FRI *)",
    "cron(0 8 1 * ? *)",
    "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)",
    "cron(0/5 8-17 ? * MON-FRI *)",
    "cron(0 9 ? * 2#1 *)",
    "cron(15 10 ? * 6L 2019-2022)",
    "cron(*/30 * * * ? *)",
    "rate(5 minutes)",
    "rate(1 minute)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(7 days)",
]

# Wildcards the reference table allows, in the forms this project accepts (see docs/schedule.md).
VALID_FORMS = [
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 0 ? * L *)",
    "cron(0 0 ? * FRIL *)",
    "cron(0 0 ? * FRI#5 *)",
    "cron(0 0 ? * mon-fri *)",
    "cron(0 0 1 jan,Jul ? *)",
    "cron(0 0 l * ? *)",
    "cron(0 0 30 2 ? *)",
    "cron(59 23 31 12 ? 2199)",
    "cron(0 0 1 1 ? 1970)",
    "cron(0 0 1 1 ? 1970/10)",
    "cron(0 0 1 1 ? 2020-2030/2)",
    "cron(*/59 * * * ? *)",
    "cron(0 */23 * * ? *)",
    "cron(0 0 */31 * ? *)",
    "cron(0 0 1 */12 ? *)",
    "cron(0 22-2 * * ? *)",
    "cron(0 0 ? * FRI-MON *)",
    "cron(0 0 ? NOV-FEB MON *)",
    "cron(5,10-12,*/20 * * * ? *)",
    "cron(0  0   * * ? *)",
    "cron(0 0 * * ? 2020,2022,2024)",
]

INVALID = [
    ("", "empty"),
    ("cron()", "no fields"),
    ("cron(0 0 * * ?)", "five fields"),
    ("cron(0 0 0 * * ? *)", "seven fields"),
    ("cron(*/60 * * * ? *)", "minute step of 60 (AWS rejects it)"),
    ("cron(0 */24 * * ? *)", "hour step of 24"),
    ("cron(0 0 */32 * ? *)", "day step of 32"),
    ("cron(0 0 1 */13 ? *)", "month step of 13"),
    ("cron(*/0 * * * ? *)", "step 0"),
    ("cron(0 0 * * * *)", "* in both day fields"),
    ("cron(0 0 ? * ? *)", "? in both day fields"),
    ("cron(0 0 1 * MON *)", "no ? in either day field"),
    ("cron(? 0 * * ? *)", "? outside the day fields"),
    ("cron(60 0 * * ? *)", "minute 60"),
    ("cron(0 24 * * ? *)", "hour 24"),
    ("cron(0 0 0 * ? *)", "day 0"),
    ("cron(0 0 32 * ? *)", "day 32"),
    ("cron(0 0 1 0 ? *)", "month 0"),
    ("cron(0 0 1 13 ? *)", "month 13"),
    ("cron(0 0 ? * 0 *)", "weekday 0 (1 = Sunday)"),
    ("cron(0 0 ? * 8 *)", "weekday 8"),
    ("cron(0 0 * * ? 1969)", "year 1969"),
    ("cron(0 0 * * ? 2200)", "year 2200"),
    ("cron(0 0 * * ? 2022-2019)", "a backwards year range"),
    ("cron(0 0 ? * 3#1,6#3 *)", "two # expressions (AWS's own example)"),
    ("cron(0 0 ? * 2,3#2 *)", "# in a list"),
    ("cron(0 0 ? * 3#6 *)", "a sixth weekday"),
    ("cron(0 0 ? * 3#0 *)", "a zeroth weekday"),
    ("cron(0 0 ? * 2-3#1 *)", "# on a range"),
    ("cron(0 0 1-15W * ? *)", "W on a range"),
    ("cron(0 0 1,15W * ? *)", "W in a list"),
    ("cron(0 0 32W * ? *)", "W on day 32"),
    ("cron(0 0 L-3 * ? *)", "L-n is not documented by AWS"),
    ("cron(0 0 L,15 * ? *)", "L in a list"),
    ("cron(0 0 ? * MON/2 *)", "/ in day-of-week is not in AWS's table"),
    ("cron(0 0 ? * 8L *)", "last weekday 8"),
    ("cron(0 0 ? * W *)", "W in day-of-week"),
    ("cron(0 0 L * L *)", "L in both day fields"),
    ("cron(0 0 1 JANUARY ? *)", "a full month name"),
    ("cron(0 0 1 * ? MON)", "a name in the wrong field"),
    ("cron(MON 0 1 * ? *)", "a weekday name in minutes"),
    ("cron(0/5, 9-18, ?, *, MON-FRI, *)", "commas between fields (accepted by AWS in 2021, a bug)"),
    ("cron(1,,2 0 * * ? *)", "an empty list item"),
    ("cron(1- 0 * * ? *)", "an open range"),
    ("cron(* * * * ? * *)", "seven fields"),
    ("cron(\u00b9 0 * * ? *)", "a superscript digit"),
    ("cron(\u0661 0 * * ? *)", "an Arabic-Indic digit"),
    ("cron(0\t0 * * ? *)", "a tab between fields"),
    (" cron(0 0 * * ? *)", "leading space"),
    ("cron(0 0 * * ? *) ", "trailing space"),
    ("CRON(0 0 * * ? *)", "upper-case keyword"),
    ("rate(0 minutes)", "rate zero"),
    ("rate(1 hours)", "plural with 1"),
    ("rate(1 minutes)", "plural with 1"),
    ("rate(5 minute)", "singular with 5"),
    ("rate(5 hour)", "singular with 5"),
    ("rate(-1 minutes)", "negative"),
    ("rate(1.5 hours)", "fraction"),
    ("rate(5 weeks)", "unit"),
    ("rate(5minutes)", "no space"),
    ("rate(5 Minutes)", "capital unit"),
    ("rate()", "empty rate"),
    ("rate(\u0665 minutes)", "non-ASCII digit"),
    ("at(2022-11-20T13:00:00)", "at() is not valid on rules"),
    ("every 5 minutes", "not an expression"),
    ("cron(" + "1," * 200 + "1 * * * ? *)", "longer than 256 characters"),
]

INVALID_AT = [
    "at(2022-02-30T00:00:00)",
    "at(2022-1-1T00:00:00)",
    "at(2022-01-01 00:00:00)",
    "at(2022-01-01T24:00:00)",
    "at(2022-01-01T00:00)",
    "at(2022-01-01T00:00:00Z)",
]


@pytest.mark.parametrize("expression", AWS_EXAMPLES)
def test_aws_documentation_examples_parse(expression: str) -> None:
    assert parse(expression).expression == expression


@pytest.mark.parametrize("expression", VALID_FORMS)
def test_documented_wildcard_forms_parse(expression: str) -> None:
    assert parse(expression).kind == "cron"


@pytest.mark.parametrize(("expression", "why"), INVALID)
def test_invalid_expressions_are_rejected_with_aws_message(expression: str, why: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse(expression)
    assert caught.value.message == MESSAGE == "Parameter ScheduleExpression is not valid."
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400


@pytest.mark.parametrize("expression", INVALID_AT)
def test_malformed_at_expressions_are_rejected_by_scheduler(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse(expression, allow_at=True)


def test_at_expression_is_valid_for_scheduler() -> None:
    assert parse("at(2022-11-20T13:00:00)", allow_at=True).kind == "at"


def test_schedule_error_is_a_validation_error_carrying_a_detail() -> None:
    with pytest.raises(ValidationError) as caught:
        parse("cron(0 0 32 * ? *)")
    assert isinstance(caught.value, AwsError)
    assert isinstance(caught.value, ScheduleError)
    assert "day-of-month" in caught.value.detail


def test_kinds_are_named_after_the_expression_type() -> None:
    assert [parse(e, allow_at=True).kind for e in ("cron(0 0 * * ? *)", "rate(1 day)")] == [
        "cron",
        "rate",
    ]


def test_parsing_the_same_expression_twice_returns_the_cached_schedule() -> None:
    assert parse("cron(1 2 * * ? *)") is parse("cron(1 2 * * ? *)")


@pytest.mark.parametrize(
    ("expression", "attribute", "values"),
    [
        ("cron(0 22-2 * * ? *)", "hours", (0, 1, 2, 22, 23)),
        ("cron(1/10 * * * ? *)", "minutes", (1, 11, 21, 31, 41, 51)),
        ("cron(50-10/10 * * * ? *)", "minutes", (0, 10, 50)),
        ("cron(5,10-12,*/20 * * * ? *)", "minutes", (0, 5, 10, 11, 12, 20, 40)),
        ("cron(0 0 1 NOV-FEB ? *)", "months", (1, 2, 11, 12)),
        ("cron(0 0 1 jan/5 ? *)", "months", (1, 6, 11)),
        ("cron(0 0 31 * ? *)", "months", (1, 3, 5, 7, 8, 10, 12)),
        ("cron(0 0 30 2 ? *)", "months", ()),
        ("cron(0 0 1 1 ? 2190/4)", "years", (2190, 2194, 2198)),
    ],
)
def test_fields_expand_to_the_values_they_name(
    expression: str, attribute: str, values: tuple[int, ...]
) -> None:
    assert values_of(getattr(parse(expression), attribute)) == values
