"""The console in headless Chromium (Debian's, driven by Playwright): the seed's batch seen and run from the browser.

Set CRONBRIDGE_SCREENSHOTS=DIR to save screenshots of the main pages there (scripts/screenshots does).
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from cronbridge import demo
from fixtures import browser as chromium
from fixtures.browser import shot
from fixtures.seed import LOG_GROUP, RULE, create_broken_rule, create_denied_rule, create_seed


def sign_in(page: Page, server: Any) -> None:
    chromium.sign_in(page, server, region=demo.REGION)  # the seed's Region, chosen as on AWS's console


def test_find_the_seed_rule_run_it_now_follow_the_task_and_read_its_log(page: Page, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    sign_in(page, cronbridge_server)
    row = page.locator("#rules tr[data-rule='hello']")
    expect(row).to_contain_text("cron(*/30 * * * ? *)")
    expect(row).to_contain_text("every 30 minutes")
    expect(row.locator("td.local")).to_contain_text("GMT+9")  # the viewer's zone, filled in by the page's script
    shot(page, "schedules")
    row.get_by_role("link", name=RULE).click()
    next_times = page.locator("#next-times tbody tr")
    expect(next_times).to_have_count(10)
    for utc in next_times.locator("td:nth-child(2)").all_inner_texts():
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:(00|30):00", utc)
    page.get_by_role("button", name="Run now").click()
    expect(page.locator(".flash")).to_contain_text("Ran hello now: 1 task(s) started")
    expect(page.locator("#invocations")).to_contain_text("SUCCEEDED")
    page.locator("#invocations a.task-link").first.click()
    expect(page.locator("#task-status")).to_contain_text("STOPPED", timeout=20_000)  # live: the page follows it
    expect(page.locator("#containers")).to_contain_text("0")
    expect(page.locator(".log-view")).to_contain_text("Hello,World!")
    shot(page, "task")
    page.get_by_role("link", name="Logs", exact=True).click()
    page.get_by_role("link", name=LOG_GROUP).click()
    page.locator("#log-streams a").first.click()
    expect(page.locator("#stream-view")).to_contain_text("Hello,World!")
    shot(page, "log-stream")
    page.goto(f"{cronbridge_server.endpoint}/console/rules/{RULE}")
    shot(page, "rule")


def test_a_failed_invocation_shows_why_and_every_page_loads_cleanly(page: Page, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    create_broken_rule(cronbridge_server)
    sign_in(page, cronbridge_server)
    page.locator("#rules tr[data-rule='broken']").get_by_role("button", name="Run now").click()
    expect(page.locator("#invocations")).to_contain_text("ClusterNotFoundException")
    page.locator("#invocations td a").first.click()
    expect(page.locator("#explanation")).to_contain_text("ClusterNotFoundException")
    expect(page.locator("#explanation")).to_contain_text("Cluster not found")
    shot(page, "invocation-failed")
    page.goto(f"{cronbridge_server.endpoint}/console/schedules")
    page.locator("#rules tr[data-rule='hello']").get_by_role("button", name="Run now").click()
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.locator("#tasks")).to_contain_text("events-rule/hello")
    for path, name in (
        ("tasks", "tasks"),
        ("logs", "log-groups"),
        ("taskdefs", "task-definitions"),
        ("clusters", "clusters"),
        ("taskdefs/ecs-scheduled-batch-task/1", "task-definition"),
    ):
        page.goto(f"{cronbridge_server.endpoint}/console/{path}")
        expect(page.locator("h1")).to_be_visible()
        shot(page, name)
    page.goto(f"{cronbridge_server.endpoint}/console/schedules")
    page.locator("#rules tr[data-rule='broken']").get_by_role("button", name="Disable").click()
    expect(page.locator("#rules tr[data-rule='broken']")).to_contain_text("DISABLED")


def test_a_run_refused_by_iam_names_the_missing_permission_and_the_roles_are_readable(
    page: Page, cronbridge_server: Any
) -> None:
    create_seed(cronbridge_server)
    create_denied_rule(cronbridge_server)
    sign_in(page, cronbridge_server)
    page.locator("#rules tr[data-rule='denied']").get_by_role("button", name="Run now").click()
    page.goto(f"{cronbridge_server.endpoint}/console/rules/denied")
    expect(page.locator("#invocations")).to_contain_text("AccessDeniedException")
    page.locator("#invocations td a").first.click()
    explanation = page.locator("#explanation")
    expect(explanation).to_contain_text("is not authorized to perform: ecs:RunTask")
    expect(explanation).to_contain_text("because no identity-based policy allows the ecs:RunTask action")
    shot(page, "invocation-denied")
    page.goto(f"{cronbridge_server.endpoint}/console/iam")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("body")).to_contain_text("EventsRoleWithoutRunTask")
    shot(page, "iam")
    page.goto(f"{cronbridge_server.endpoint}/console/iam/roles/EcsEventsRole-sample")
    expect(page.locator("body")).to_contain_text("ecs:RunTask")
    shot(page, "iam-role")
