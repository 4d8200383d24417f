"""The invocations chart: one bar per bucket that had invocations, failures drawn over them, labelled for people."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cronbridge.store.views import Bucket
from cronbridge.web.chart import svg

SINCE = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def test_bars_have_heights_in_proportion_and_failures_in_front() -> None:
    drawn = svg([Bucket(SINCE, 4, 1), Bucket(SINCE + 3 * 3600, 2, 0)], SINCE, SINCE + 24 * 3600, 3600)
    root = ET.fromstring(drawn)
    ok = [float(r.get("height", "0")) for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "ok"]
    failed = [float(r.get("height", "0")) for r in root.iter() if r.tag.endswith("rect") and r.get("class") == "failed"]
    assert len(ok) == 2 and ok[0] == 2 * ok[1] and failed == [ok[0] / 4, 0.0]
    assert "01-15 08:00: 4 invocations, 1 failed" in drawn
    assert re.search(r"<title>6 invocations, 1 failed</title>", drawn)


def test_an_empty_history_is_an_empty_chart_not_an_error() -> None:
    drawn = svg([], SINCE, SINCE + 86400, 3600)
    ET.fromstring(drawn)
    assert "<title>0 invocations, 0 failed</title>" in drawn and 'class="ok"' not in drawn
