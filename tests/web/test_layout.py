"""The console at 390 px and in the dark colour scheme; the header is drawn signed in only after a sign-in."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from fixtures.browser import shot, sign_in
from fixtures.seed import create_seed

PAGES = ("schedules", "rules/hello", "tasks", "logs", "taskdefs", "clusters", "iam")


def test_a_wrong_secret_leaves_the_header_signed_out(page: Page, cronbridge_server: Any) -> None:
    page.goto(f"{cronbridge_server.endpoint}/console/signin")
    page.get_by_label("Access key ID").fill("AKIDTEST")
    page.get_by_label("Secret access key").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_label("Access key ID")).to_have_value("AKIDTEST")  # kept for another try
    expect(page.locator("header.top nav")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_every_main_page_fits_390_px_with_the_whole_nav_reachable(phone: Page, cronbridge_server: Any) -> None:
    create_seed(cronbridge_server)
    sign_in(phone, cronbridge_server, region="ap-northeast-1")  # the seed's Region: rules/hello is there
    for path in PAGES:
        phone.goto(f"{cronbridge_server.endpoint}/console/{path}")
        expect(phone.locator("h1")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"/console/{path} is {width} px wide"
        for link in phone.locator("header.top nav a").all():
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, link.inner_text())
    phone.goto(f"{cronbridge_server.endpoint}/console/schedules")
    shot(phone, "schedules-phone-dark")


def test_the_dark_colour_scheme_is_dark(phone: Page, cronbridge_server: Any) -> None:
    sign_in(phone, cronbridge_server)
    background = phone.evaluate("getComputedStyle(document.body).backgroundColor")
    text = phone.evaluate("getComputedStyle(document.body).color")
    assert _brightness(background) < 60 and _brightness(text) > 180, (background, text)


def _brightness(css: str) -> float:
    red, green, blue = (int(part) for part in css[css.index("(") + 1: css.index(")")].split(",")[:3])
    return 0.299 * red + 0.587 * green + 0.114 * blue
