"""Every link of a populated console leads somewhere: crawled in Chromium, no broken link, no browser error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urlparse

from playwright.sync_api import Page

from fixtures.browser import sign_in
from fixtures.ecs import wait_stopped
from fixtures.seed import create_broken_rule, create_denied_rule, create_seed, rule_running

LIMIT = 400  # pages at most: a populated console has far fewer


def populate(server: Any) -> None:
    """The seed, a rule that fails to launch, one IAM refuses, a task that exits 3, one that never starts, a task of a
    cluster since deleted, and a schedule."""
    made = create_seed(server)
    create_broken_rule(server)
    create_denied_rule(server)
    rule_running(server, "exits3", ["sh", "-c", "echo failing; exit 3"])
    rule_running(server, "nostart", ["/no/such/program"])
    ecs = server.client("ecs", region="ap-northeast-1")
    for rule in ("hello", "broken", "denied", "exits3", "nostart"):
        ran = server.post(f"/_cronbridge/rules/{rule}/run-now", region="ap-northeast-1")
        for arn in ran["taskArns"]:
            wait_stopped(ecs, "ecs-scheduled-batch", arn)
    ecs.create_cluster(clusterName="short-lived")
    task = ecs.run_task(cluster="short-lived", taskDefinition=made["task_definition"], launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}})["tasks"][0]
    wait_stopped(ecs, "short-lived", task["taskArn"])
    ecs.delete_cluster(cluster="short-lived")
    scheduler = server.client("scheduler", region="ap-northeast-1")
    scheduler.create_schedule(
        Name="nightly", ScheduleExpression="cron(0 3 * * ? *)", ScheduleExpressionTimezone="Asia/Tokyo",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": made["cluster"], "RoleArn": "arn:aws:iam::000000000000:role/EcsSchedulerRole-sample",
                "EcsParameters": {"TaskDefinitionArn": made["task_definition"], "LaunchType": "FARGATE"}},
    )


def crawl(page: Page, start: str) -> dict[str, int]:
    """Status of every same-origin /console link reachable from `start` (forms and sign-out are not followed)."""
    origin = urlparse(start).netloc
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = page.goto(url)
        seen[url] = response.status if response else 0
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            link = urldefrag(href)[0]
            parsed = urlparse(link)
            if parsed.netloc == origin and parsed.path.startswith("/console") and link not in seen:
                queue.append(link)
    return seen


def test_every_link_of_a_populated_console_works(page: Page, cronbridge_server: Any) -> None:
    populate(cronbridge_server)
    sign_in(page, cronbridge_server, region="ap-northeast-1")  # the seed's Region
    statuses = crawl(page, f"{cronbridge_server.endpoint}/console/schedules")
    broken = {url: status for url, status in statuses.items() if status >= 400}
    assert broken == {}, f"{len(broken)} of {len(statuses)} links broken"
    assert len(statuses) > 40  # the crawl saw the console, not just the sign-in page
