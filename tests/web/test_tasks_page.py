"""The console's tasks page: filters by status, cluster, family, started-by and failed-only, a search, and pages;
the choice lives in the URL, so a reload or a shared link shows the same list."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from fixtures.browser import shot, sign_in
from fixtures.ecs import wait_stopped
from fixtures.seed import create_seed, rule_running

CLUSTER = "ecs-scheduled-batch"


def runs(server: Any, *rules: str) -> list[str]:
    ecs = server.client("ecs", region="ap-northeast-1")
    arns = []
    for rule in rules:
        for arn in server.post(f"/_cronbridge/rules/{rule}/run-now", region="ap-northeast-1")["taskArns"]:
            wait_stopped(ecs, CLUSTER, arn)
            arns.append(arn)
    return arns


def test_filters_narrow_the_list_and_survive_a_reload(page: Page, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    rule_running(cronbridge_server, "exits3", ["sh", "-c", "exit 3"])
    rule_running(cronbridge_server, "nostart", ["/no/such/program"])
    hello, _, failed, _ = runs(cronbridge_server, "hello", "hello", "exits3", "nostart")
    sign_in(page, cronbridge_server, region="ap-northeast-1")  # the seed's Region
    page.goto(f"{cronbridge_server.endpoint}/console/tasks")
    rows = page.locator("#tasks tbody tr")
    expect(rows).to_have_count(4)
    page.get_by_label("Failed only").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"failed=1"))
    expect(rows).to_have_count(2)
    expect(page.locator("#tasks tbody tr.failed")).to_have_count(2)
    expect(page.locator("#tasks")).to_contain_text("FAILED (exit 3)")
    expect(page.locator("#tasks")).to_contain_text("FAILED_TO_START")
    shot(page, "tasks-failed")
    page.reload()
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Failed only")).to_be_checked()
    page.get_by_label("Started by").fill("events-rule/exits3")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(failed.rsplit("/", 1)[-1])
    page.goto(f"{cronbridge_server.endpoint}/console/tasks?q={hello.rsplit('/', 1)[-1][:10]}")
    expect(rows).to_have_count(1)
    page.goto(f"{cronbridge_server.endpoint}/console/tasks?status=STOPPED&cluster={CLUSTER}&family=nope")
    expect(page.locator(".empty")).to_contain_text("No task matches these filters.")
    page.get_by_role("link", name="Clear").click()
    expect(rows).to_have_count(4)



def test_a_long_stop_reason_is_cut_with_the_whole_of_it_on_demand(page: Page, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    rule_running(cronbridge_server, "nostart", ["/no/such/program/with/a/rather/long/path/to/make/the/reason/long"])
    runs(cronbridge_server, "nostart")
    sign_in(page, cronbridge_server, region="ap-northeast-1")  # the seed's Region
    page.goto(f"{cronbridge_server.endpoint}/console/tasks?failed=1")
    reason = page.locator("#tasks details.reason").first
    expect(reason.locator("summary")).to_contain_text("…")
    expect(reason.locator(".full")).not_to_be_visible()
    reason.locator("summary").click()
    expect(reason.locator(".full")).to_be_visible()
    expect(reason.locator(".full")).to_contain_text("rather/long/path")


def test_pages_keep_the_filter(page: Page, cronbridge_server: Any) -> None:
    made = create_seed(cronbridge_server)
    ecs = cronbridge_server.client("ecs", region="ap-northeast-1")
    network = {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}
    arns = [t["taskArn"] for _ in range(6) for t in ecs.run_task(
        cluster=CLUSTER, taskDefinition=made["task_definition"], launchType="FARGATE", count=10,
        networkConfiguration=network, startedBy="bulk")["tasks"]]
    runs(cronbridge_server, "hello")  # one task not started by "bulk"
    for arn in arns:
        wait_stopped(ecs, CLUSTER, arn)
    sign_in(page, cronbridge_server, region="ap-northeast-1")  # the seed's Region
    page.goto(f"{cronbridge_server.endpoint}/console/tasks?started_by=bulk")
    rows = page.locator("#tasks tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"started_by=bulk"))
    expect(rows).to_have_count(10)
    expect(page.locator("#tasks")).not_to_contain_text("events-rule/hello")
    page.reload()
    expect(rows).to_have_count(10)
