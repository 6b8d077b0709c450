// un dashboard, events page: a live tail of /un/events/stream with a pattern,
// pause (events are held, not dropped) and each event's JSON on a click.
(() => {
  const MAX_ROWS = 500;
  const form = document.getElementById("tail");
  const input = form.elements.type;
  const rows = document.getElementById("events");
  const problem = document.getElementById("tail-problem");
  const count = document.getElementById("tail-count");
  const pauseButton = document.getElementById("tail-pause");
  let source = null;
  let paused = false;
  let held = [];
  let seen = 0;

  // ui.js, loaded first: the stream and the header's live status.
  const { follow: followStream, say } = globalThis.un;
  const counted = () => {
    count.textContent = `${seen} events` +
      (held.length ? ` · ${held.length} held while paused` : "");
  };

  function cell(tr, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }

  // Built with textContent only: event data cannot inject markup.
  function show(event) {
    const tr = document.createElement("tr");
    tr.dataset.type = event.type;
    cell(tr, (event.time ?? "").slice(11, 23), "mono");
    cell(tr, event.type);
    cell(tr, event.subject ?? "", "wrap small");
    cell(tr, event.source ?? "", "wide small");
    tr.addEventListener("click", () => {
      const next = tr.nextElementSibling;
      if (next?.classList.contains("detail")) return next.remove();
      const detail = document.createElement("tr");
      detail.className = "detail";
      const td = document.createElement("td");
      td.colSpan = 4;
      const pre = document.createElement("pre");
      pre.className = "json";
      pre.textContent = JSON.stringify(event, null, 2);
      td.appendChild(pre);
      detail.appendChild(td);
      tr.after(detail);
    });
    rows.prepend(tr);
    while (rows.rows.length > MAX_ROWS) rows.deleteRow(rows.rows.length - 1);
  }

  async function follow(pattern) {
    source?.close();
    source = null;
    problem.textContent = "";
    // EventSource cannot read an error answer: ask once so a bad pattern is explained.
    const check = await fetch(`/un/events/history?type=${encodeURIComponent(pattern)}&limit=1`, {
      headers: { accept: "application/json" },
    });
    if (!check.ok) {
      const json = await check.json().catch(() => ({}));
      problem.textContent = json.error?.message ?? `HTTP ${check.status}`;
      say("stopped");
      return;
    }
    source = followStream(
      pattern,
      (event) => {
        seen++;
        if (paused) held.push(event);
        else show(event);
        counted();
      },
      `live: ${pattern}`,
      "fell behind; catching up",
    );
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const pattern = input.value.trim() || "**";
    history.replaceState(null, "", `?type=${encodeURIComponent(pattern)}`);
    follow(pattern);
  });
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      held.forEach(show);
      held = [];
    }
    counted();
  });
  document.getElementById("tail-clear").addEventListener("click", () => {
    rows.replaceChildren();
    seen = 0;
    held = [];
    counted();
  });
  addEventListener("pagehide", () => source?.close());
  follow(input.value.trim() || "**");
})();
