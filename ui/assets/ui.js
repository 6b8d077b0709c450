// un dashboard: live refresh over SSE, and the buttons that call the JSON API.
// Parts of a page marked data-live="events" are refetched by htmx (hx-trigger "un-refresh")
// when an event of the page's pattern (body data-live) arrives; data-watch limits
// that to events about the listed ids (a task page watches its task).
(() => {
  const status = document.getElementById("live-status");
  const say = (text) => status && (status.textContent = text);
  const dirty = new Set();
  const lastAt = new WeakMap();
  let timer = null;

  // Trailing coalescing: a burst of events makes one request per part, and a
  // part is fetched at most once a second however busy the system is.
  function flush() {
    timer = null;
    const now = Date.now();
    let wait = Infinity;
    for (const el of [...dirty]) {
      const due = (lastAt.get(el) ?? 0) + 1000;
      if (due > now) {
        wait = Math.min(wait, due - now);
        continue;
      }
      dirty.delete(el);
      lastAt.set(el, now);
      if (el.isConnected) htmx.trigger(el, "un-refresh");
    }
    if (dirty.size > 0) timer = setTimeout(flush, wait);
  }
  function refresh(el) {
    dirty.add(el);
    if (timer === null) timer = setTimeout(flush, 200);
  }
  function refreshAll() {
    document.querySelectorAll("[data-live]").forEach(refresh);
  }

  // Follows /un/events/stream for `pattern`, saying how it goes in the header;
  // the events page's tail (events.js) follows through this too.
  function follow(pattern, onEvent, live = "live", behind = "fell behind; reconnecting") {
    const source = new EventSource(`/un/events/stream?type=${encodeURIComponent(pattern)}`);
    source.onopen = () => say(live);
    source.onerror = () => say("reconnecting…");
    // The server dropped us for reading too slowly; EventSource reconnects by
    // itself, with Last-Event-ID, so nothing is lost.
    source.addEventListener("overflow", () => say(behind));
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      onEvent(event);
    };
    return source;
  }
  globalThis.un = { follow, say };

  const pattern = document.body.dataset.live;
  if (pattern) {
    const source = follow(pattern, (event) => {
      document.querySelectorAll('[data-live="events"]').forEach((el) => {
        const watch = el.dataset.watch;
        if (!watch || watch.split(" ").includes(event.subject)) refresh(el);
      });
    });
    addEventListener("pagehide", () => source.close());
  }

  // Filter forms apply as soon as a field changes.
  document.addEventListener("change", (e) => {
    const form = e.target.form;
    if (form && form.dataset.autosubmit !== undefined) form.requestSubmit();
  });

  const flash = document.getElementById("flash");
  function tell(text, bad) {
    if (!flash) return;
    flash.textContent = text;
    flash.className = bad ? "bad" : "";
  }

  function outcome(verb, json) {
    if (json.task) return `${verb}: task ${json.task.id} is ${json.task.state}`;
    if (json.scan) {
      return `scan done: ${json.scan.changes ?? 0} changes in ${json.scan.durationMs} ms`;
    }
    if (json.source) {
      const note = json.note ? ` (${json.note})` : "";
      return `source ${json.source.id} is ${json.source.enabled ? "enabled" : "disabled"}${note}`;
    }
    return `${verb}: done`;
  }

  // Same-origin JSON calls: the browser guard lets them through, the session cookie authenticates.
  document.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-api]");
    if (!button) return;
    e.preventDefault();
    if (button.dataset.confirm && !confirm(button.dataset.confirm)) return;
    const method = button.dataset.method || "POST";
    let body = button.dataset.body;
    if (button.dataset.bodyFrom) {
      const input = document.querySelector(button.dataset.bodyFrom);
      body = JSON.stringify({ [input.name]: Number(input.value) });
    }
    button.disabled = true;
    try {
      const res = await fetch(button.dataset.api, {
        method,
        credentials: "same-origin",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: method === "GET" || method === "DELETE" ? undefined : body ?? "{}",
      });
      const json = await res.json().catch(() => ({}));
      if (res.ok) tell(outcome(button.dataset.verb || button.textContent.trim(), json), false);
      else tell(json.error?.message ?? `HTTP ${res.status}`, true);
    } catch (err) {
      tell(String(err), true);
    } finally {
      button.disabled = false;
      refreshAll();
    }
  });
})();
