// cronbridge console: times in the viewer's zone, live task status, live log tail. No libraries.
"use strict";
(function () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const local = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false, timeZoneName: "short",
  });

  function showLocalTimes() {
    document.querySelectorAll(".viewer-zone").forEach((el) => { el.textContent = zone; });
    document.querySelectorAll("td.local[data-utc]").forEach((el) => {
      if (el.dataset.utc) { el.textContent = local.format(new Date(el.dataset.utc)); }
    });
    document.querySelectorAll("time[datetime]").forEach((el) => {
      el.title = local.format(new Date(el.getAttribute("datetime"))) + " (" + zone + ")";
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .catch(() => null);
  }

  function followTask(el) {
    const shown = el.dataset.status;
    if (shown === "STOPPED") { return; }
    const tick = () => getJson(el.dataset.poll).then((task) => {
      if (task && task.lastStatus !== shown) { window.location.reload(); return; }
      window.setTimeout(tick, 1000);
    });
    window.setTimeout(tick, 1000);
  }

  function addRow(body, event) {
    const row = document.createElement("tr");
    const ts = document.createElement("td");
    ts.className = "ts";
    ts.textContent = event.time;
    const msg = document.createElement("td");
    msg.className = "msg";
    msg.textContent = event.message;
    row.append(ts, msg);
    body.append(row);
  }

  function tail(view) {
    const body = view.querySelector("tbody");
    const waiting = view.querySelector(".waiting");
    const toggle = document.getElementById("live-tail");
    const live = () => (toggle ? toggle.checked : view.dataset.live === "1");
    const tick = () => {
      if (!live()) { window.setTimeout(tick, 1000); return; }
      const query = new URLSearchParams({
        group: view.dataset.group, stream: view.dataset.stream, after: view.dataset.after,
        filter: view.dataset.filter || "", end: view.dataset.end || "",
      });
      getJson("/console/api/logs?" + query.toString()).then((page) => {
        if (page && page.events.length) {
          page.events.forEach((e) => addRow(body, e));
          view.dataset.after = page.after;
          if (waiting) { waiting.hidden = true; }
        }
        window.setTimeout(tick, 1000);
      });
    };
    tick();
  }

  document.addEventListener("DOMContentLoaded", () => {
    showLocalTimes();
    const status = document.getElementById("task-status");
    if (status) { followTask(status); }
    document.querySelectorAll(".log-view").forEach(tail);
  });
})();
