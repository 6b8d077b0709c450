// un inspector: the supervision tree (GET /un/inspect/actors), one actor's chart
// and context (GET /un/inspect/actors/:id) and the message log (GET /un/inspect/stream).
// Everything is built with textContent: nothing an actor says can inject markup.
(() => {
  const KEPT = 2000; // records kept; filter and pause work on all of them
  const SHOWN = 500; // rows drawn
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  const filter = $("filter");
  const pauseButton = $("pause");
  const rows = $("messages");
  const count = $("msg-count");

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "data") Object.assign(node.dataset, v);
      else if (k === "onclick") node.addEventListener("click", v);
      else node.setAttribute(k, v);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // ---- the tree ----
  let actors = JSON.parse($("initial-actors").textContent);
  let selected = null;

  function stateCell(a) {
    if (!a.states || a.states.length === 0) {
      return el("span", { class: "badge", data: { statePill: a.state } }, a.state);
    }
    const active = new Set(a.active ?? []);
    return el(
      "span",
      { class: "pills" },
      a.states.map((s) =>
        el("span", { class: active.has(s) ? "pill active" : "pill", data: { statePill: s } }, s)
      ),
    );
  }

  function renderActors() {
    const depth = new Map();
    $("actors").replaceChildren(...actors.map((a) => {
      const d = a.parent == null ? 0 : (depth.get(a.parent) ?? 0) + 1;
      depth.set(a.id, d);
      return el(
        "tr",
        {
          class: a.id === selected ? "actor selected" : "actor",
          data: { actor: a.id, state: a.state, parent: a.parent ?? "" },
          onclick: () => select(a.id),
        },
        el(
          "td",
          { class: "tree", style: `padding-left:${0.5 + d * 1.1}rem` },
          el("b", {}, a.id),
          " ",
          el("span", { class: "muted small" }, a.kind),
        ),
        el("td", {}, stateCell(a)),
        el("td", { class: "num" }, a.restarts),
        el("td", { class: "wrap small" }, a.lastError ?? ""),
      );
    }));
  }

  let actorsLoading = false;
  async function loadActors() {
    if (actorsLoading) return;
    actorsLoading = true;
    try {
      const res = await fetch("/un/inspect/actors");
      if (res.ok) {
        actors = (await res.json()).actors;
        renderActors();
        if (selected) await loadDetail();
      }
    } catch {
      // the next refresh tries again
    } finally {
      actorsLoading = false;
    }
  }
  let actorsTimer = null;
  const soonActors = () =>
    actorsTimer ??= setTimeout(() => {
      actorsTimer = null;
      loadActors();
    }, 150);

  // ---- one actor: chart and context ----
  function chartState(state, active) {
    const cls = ["st", state.type];
    if (active.has(state.path)) cls.push("active");
    const box = el(
      "div",
      { class: cls.join(" "), data: { chartState: state.path } },
      el(
        "div",
        { class: "st-name" },
        state.initial ? "→ " : "",
        state.key,
        state.type === "final" ? " (final)" : "",
      ),
    );
    const moves = state.transitions.map((t) =>
      el(
        "li",
        {},
        el("code", {}, t.label),
        " → ",
        t.targets.join(", "),
        t.guard ? ` [${t.guard}]` : "",
      )
    );
    if (moves.length) box.append(el("ul", { class: "moves" }, moves));
    if (state.states.length) {
      box.append(
        el("div", { class: "st-children" }, state.states.map((s) => chartState(s, active))),
      );
    }
    return box;
  }

  function renderChart(chart, actor) {
    const target = $("chart");
    if (!chart) return target.replaceChildren(el("p", { class: "muted" }, "not a state machine"));
    const active = new Set(actor.active ?? []);
    const root = chart.root;
    const parts = [
      el("div", { class: "chart-states" }, root.states.map((s) => chartState(s, active))),
    ];
    if (root.states.length === 0) {
      parts[0].append(
        el("div", { class: "st atomic active" }, el("div", { class: "st-name" }, actor.state)),
      );
    }
    if (root.transitions.length) {
      parts.push(
        el(
          "p",
          { class: "small" },
          el("b", {}, "from any state: "),
          root.transitions.map((
            t,
            i,
          ) => [i ? ", " : "", el("code", {}, t.label), " → ", t.targets.join(", ")]),
        ),
      );
    }
    if (root.handles.length) {
      parts.push(el("p", { class: "small muted" }, "handles: ", root.handles.join(", ")));
    }
    target.replaceChildren(...parts);
  }

  async function loadDetail() {
    const id = selected;
    const res = await fetch(`/un/inspect/actors/${encodeURIComponent(id)}`);
    if (id !== selected) return;
    if (!res.ok) {
      $("detail-title").textContent = `${id}: gone`;
      return;
    }
    const { actor, context, chart } = await res.json();
    $("detail-title").textContent = `${actor.id} · ${actor.kind} · ${actor.state}`;
    renderChart(chart, actor);
    $("context").textContent = JSON.stringify(context, null, 2);
  }

  function select(id) {
    selected = id;
    renderActors();
    loadDetail();
  }

  // ---- messages ----
  const records = new Map(); // seq → record; an idle loop comes again with its seq as it grows
  let order = []; // seqs, ascending
  let paused = false;
  let pausedAt = 0; // highest seq shown when paused: later ones wait
  let renderTimer = null;

  const idle = (r) => r.count !== undefined;
  const lineText = (r) =>
    `${r.seq} ${r.from} ${r.to} ${r.type} ${r.summary ?? ""}${idle(r) ? ` ${r.to} idle` : ""}`
      .toLowerCase();
  const time = (at) => new Date(at).toISOString().slice(11, 23);

  function row(r) {
    if (idle(r)) {
      return el(
        "tr",
        { class: "idle", data: { seq: r.seq, to: r.to } },
        el("td", { class: "num muted wide" }, r.seq),
        el("td", { class: "mono" }, time(r.at)),
        el(
          "td",
          { colspan: "4", class: "muted" },
          `${r.to} idle ×${r.count}`,
          r.lastAt > r.at ? ` (until ${time(r.lastAt)})` : "",
        ),
      );
    }
    return el(
      "tr",
      { data: { seq: r.seq } },
      el("td", { class: "num muted wide" }, r.seq),
      el("td", { class: "mono" }, time(r.at)),
      el("td", {}, r.from),
      el("td", {}, r.to),
      el("td", {}, r.type),
      el("td", { class: "wrap small" }, r.summary ?? ""),
    );
  }

  function render() {
    renderTimer = null;
    const f = filter.value.trim().toLowerCase();
    const limit = paused ? pausedAt : Infinity;
    const shown = [];
    let matching = 0;
    for (let i = order.length - 1; i >= 0; i--) {
      const r = records.get(order[i]);
      if (r.seq > limit || (f && !lineText(r).includes(f))) continue;
      matching++;
      if (shown.length < SHOWN) shown.push(row(r));
    }
    rows.replaceChildren(...shown);
    const waiting = paused ? order.filter((seq) => seq > pausedAt).length : 0;
    count.textContent = `${matching} of ${order.length} messages` +
      (paused ? ` · paused, ${waiting} new held` : "");
  }
  const soonRender = () => renderTimer ??= setTimeout(render, 100);

  function take(r) {
    if (!records.has(r.seq)) {
      if (order.length && r.seq < order[order.length - 1]) {
        order.push(r.seq);
        order.sort((a, b) => a - b);
      } else order.push(r.seq);
      while (order.length > KEPT) records.delete(order.shift());
    }
    records.set(r.seq, r);
  }

  const source = new EventSource("/un/inspect/stream");
  source.onopen = () => (status.textContent = "live");
  source.onerror = () => (status.textContent = "disconnected; retrying");
  // Sent when this page fell too far behind; the browser reconnects by itself.
  source.addEventListener("overflow", () => (status.textContent = "fell behind; reconnecting"));
  source.onmessage = (message) => {
    const r = JSON.parse(message.data);
    take(r);
    soonRender();
    // An actor's state follows the messages it gets: look again soon.
    if (!idle(r) || r.count === 1) soonActors();
  };

  filter.addEventListener("input", render);
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pausedAt = order.length ? order[order.length - 1] : 0;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    render();
  });
  $("clear").addEventListener("click", () => {
    records.clear();
    order = [];
    render();
  });

  renderActors();
  setInterval(loadActors, 2000);
})();
