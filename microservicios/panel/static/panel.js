// Live lab panel: draws the server's SSE snapshots and logs, and sends actions.
// A plain classic script (no modules, no libraries). Server text only ever goes into
// the page through textContent / text nodes, never as HTML.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const MAX_LOGS = 500;
const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };
const BREAKER_WORDS = { closed: "cerrado", open: "abierto", half_open: "semiabierto" };
const MARK_WORDS = { kill: "apagado", revive: "revivido", inject: "fallas", heal: "curado" };
const KNOWN_COLORS = { gateway: "#4c72b0", orders: "#dd8452", users: "#55a868", items: "#c44e52" };
const PALETTE = ["#8172b3", "#937860", "#b5589a", "#5f6b6d", "#9a8a2e", "#2f8fab"];
const LOG_FIXED = new Set(["ts", "level", "service", "event"]);
const MISSING_TOKEN =
  "Falta el token: abrí la dirección completa que imprime el laboratorio (termina en ?token=…).";
const STRIP_H = 64; // breaker strip height; the top BAR_TOP px hold two rows of mark labels
const BAR_TOP = 30;
const LABEL_ROWS = 2;
const LABEL_GAP = 6; // px between two labels in a row
const TICK_CLEARANCE = 8; // px between a label and another group's tick: no doubt whose it is
const MERGE_PX = 10; // ticks closer than this are one group with one label
const MIN_SEGMENT_PX = 5; // a state that lasted milliseconds still shows
const TICK_INTO_BAR = 5; // px of a mark's tick over the top of the bar

const pending = new Set(); // "service:action" of requests in flight
const knownServices = new Set();
const colorOf = new Map();
const searchText = new WeakMap(); // log line -> lower-case JSON of its record
let pendingLogs = []; // records that arrived while paused
let paused = false;
let traceTicket = 0;
const textWidths = new Map(); // "size:text" -> px, for the strips' labels
const measurer = document.createElement("canvas").getContext("2d");

// ---------- DOM helpers ----------

const $ = (selector, root = document) => root.querySelector(selector);

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

const el = (tag, attrs = {}, ...children) => fill(document.createElement(tag), attrs, children);
const svgEl = (tag, attrs = {}, ...children) =>
  fill(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);
const dot = (name) =>
  el("span", { class: "swatch-dot", "aria-hidden": "true", style: `background:${serviceColor(name)}` });

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Runs `render`; if that moved the focused element (and so blurred it), focuses it again. */
function keepFocus(render) {
  const active = document.activeElement;
  render();
  if (active && active !== document.body && active !== document.activeElement
      && active.isConnected && !active.hidden && !active.disabled) {
    active.focus({ preventScroll: true });
  }
}

/** Keyed update of `container`'s children: reuses, creates, removes and orders them. */
function reconcile(container, items, keyOf, create, update) {
  const existing = new Map([...container.children].map((node) => [node.dataset.key, node]));
  const wanted = new Set(items.map(keyOf));
  for (const [key, node] of existing) if (!wanted.has(key)) node.remove();
  items.forEach((item, index) => {
    const key = keyOf(item);
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    const current = container.children[index];
    if (current !== node) container.insertBefore(node, current || null);
  });
}

const list = (value) => (Array.isArray(value) ? value : []);

// ---------- formatting ----------

const num = (value, digits = 1) =>
  (typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "—");
const pad = (n, width = 2) => String(n).padStart(width, "0");

function clock(date, withMs = false) {
  if (Number.isNaN(date.getTime())) return "";
  const text = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return withMs ? `${text}.${pad(date.getMilliseconds(), 3)}` : text;
}

const epochClock = (seconds) => clock(new Date(seconds * 1000));

function serviceColor(name) {
  if (KNOWN_COLORS[name]) return KNOWN_COLORS[name];
  if (!colorOf.has(name)) colorOf.set(name, PALETTE[colorOf.size % PALETTE.length]);
  return colorOf.get(name);
}

function faultWords(faults) {
  if (!faults) return "—";
  const parts = [];
  if (faults.latency > 0) parts.push(`latencia ${Number(Number(faults.latency).toFixed(3))} s`);
  if (faults.jitter > 0) parts.push(`variación ${Number(Number(faults.jitter).toFixed(3))} s`);
  if (faults.error_rate > 0) {
    parts.push(`errores ${Math.round(faults.error_rate * 100)} % (${faults.status ?? "?"})`);
  }
  if (faults.hang) parts.push("colgado");
  if (faults.drop_rate > 0) parts.push(`pérdida ${Math.round(faults.drop_rate * 100)} %`);
  return parts.join(", ") || "—";
}

function statusClass(status) {
  const code = Number(status);
  if (code >= 500) return "5xx";
  if (code >= 400) return "4xx";
  return code >= 200 ? "ok" : "none";
}

// ---------- messages and HTTP ----------

function showMessage(text, kind = "info") {
  const box = $("#message");
  box.dataset.kind = kind;
  box.textContent = text;
}

function showAuthError(text) {
  const banner = $("#auth-error");
  banner.textContent = TOKEN ? text : `${MISSING_TOKEN} ${text}`.trim();
  banner.hidden = false;
}

function detailText(data, fallback) {
  const detail = data && (data.detail ?? data.message);
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && d.msg) || JSON.stringify(d)).join("; ");
  return fallback;
}

/** fetch + JSON; never throws. Any 403 also shows the banner. */
async function request(url, options = {}) {
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    return { ok: false, data: null, text: "No se pudo contactar al servidor del panel." };
  }
  const data = await response.json().catch(() => null);
  const text = detailText(data, response.ok ? "Hecho." : `Error ${response.status}.`);
  if (response.status === 403) showAuthError(`Acceso denegado: ${text}`);
  return { ok: response.ok, data, text };
}

/** POSTs one action with `button` disabled meanwhile; the answer goes to #message. */
async function runAction(button, service, action, body) {
  const key = `${service}:${action}`;
  if (pending.has(key)) return;
  pending.add(key);
  button.disabled = true;
  showMessage(`Enviando “${button.textContent}” a ${service}…`, "busy");
  const headers = { "X-Panel-Token": TOKEN };
  if (body) headers["Content-Type"] = "application/json";
  const result = await request(`/api/services/${encodeURIComponent(service)}/${action}`,
    { method: "POST", headers, body: body ? JSON.stringify(body) : undefined });
  pending.delete(key);
  button.disabled = false;
  showMessage(result.text, result.ok ? "ok" : "error");
  // Disabling the focused button may have dropped focus to <body>: give it back.
  if (!document.activeElement || document.activeElement === document.body) {
    if (!button.hidden) button.focus({ preventScroll: true });
  }
}

// ---------- services ----------

function createServiceRow(service) {
  const name = service.name;
  const link = (cls, extra = {}) => el("a", { class: cls, target: "_blank", rel: "noopener", ...extra });
  return el("tr", { "data-service": name },
    el("th", { scope: "row" }, dot(name), name),
    el("td", {}, el("span", { class: "state" })),
    el("td", { class: "links" }, link("url"), " ", link("docs", { "aria-label": `Documentación de ${name}` })),
    el("td", { class: "num rps" }), el("td", { class: "num err" }), el("td", { class: "num p99" }),
    el("td", { class: "faults" }),
    el("td", { class: "actions" },
      actionButton("kill", "Apagar", name),
      actionButton("revive", "Revivir", name),
      actionButton("heal", "Curar", name)));
}

function actionButton(action, label, service) {
  const button = el("button",
    { type: "button", "data-action": action, "aria-label": `${label} ${service}`, text: label });
  button.addEventListener("click", () => runAction(button, service, action));
  return button;
}

function updateServiceRow(row, service) {
  const state = $(".state", row);
  setText(state, service.up ? "activo" : "caído");
  state.dataset.state = service.up ? "up" : "down";
  row.classList.toggle("is-down", !service.up);
  updateLink($(".url", row), service.url, String(service.url || "").replace(/^https?:\/\//, ""));
  updateLink($(".docs", row), service.docs_url, "/docs");
  setText($(".rps", row), num(service.rps));
  setText($(".err", row), num(service.error_pct));
  setText($(".p99", row), num(service.p99_ms));
  const faults = $(".faults", row);
  setText(faults, faultWords(service.faults));
  faults.classList.toggle("active", Boolean(service.faults));
  updateButtons(row, service);
}

function updateLink(link, href, text) {
  link.hidden = !href;
  if (href && link.getAttribute("href") !== href) link.setAttribute("href", href);
  setText(link, text);
}

/** Shows the buttons that apply; if the focused one goes away, focus moves to its neighbour. */
function updateButtons(row, service) {
  const focused = row.contains(document.activeElement) ? document.activeElement : null;
  const visible = { kill: service.up, revive: !service.up, heal: Boolean(service.faults) };
  const buttons = [...row.querySelectorAll("button[data-action]")];
  for (const button of buttons) {
    const action = button.dataset.action;
    button.hidden = !visible[action];
    button.disabled = pending.has(`${service.name}:${action}`);
  }
  if (focused && focused.hidden) buttons.find((b) => !b.hidden)?.focus({ preventScroll: true });
}

/** Keeps a <select>'s options after the first `fixed` equal to `names`, keeping its value. */
function syncOptions(select, names, fixed = 0) {
  const current = [...select.options].slice(fixed).map((o) => o.value);
  if (current.join("\n") === names.join("\n")) return;
  const value = select.value;
  while (select.options.length > fixed) select.remove(fixed);
  for (const name of names) select.add(new Option(name, name));
  if (names.includes(value)) select.value = value;
}

function noteServices(names) {
  const before = knownServices.size;
  for (const name of names) if (name) knownServices.add(String(name));
  if (knownServices.size !== before) syncOptions($("#log-service"), [...knownServices], 1);
}

// ---------- fault form ----------

function readFaults(form) {
  // Text fields, not type=number: "0,3" (a Spanish decimal comma) must mean 0.3, not 3.
  const value = (name, fallback) =>
    Number(form.elements[name].value.trim().replace(",", ".") || fallback);
  const latency = value("latency", 0);
  const jitter = value("jitter", 0);
  const errorRate = value("error_rate", 0);
  const status = value("status", 503);
  const dropRate = value("drop_rate", 0);
  if (!(latency >= 0)) return { error: "La latencia va en segundos, 0 o más." };
  if (!(jitter >= 0)) return { error: "La variación va en segundos, 0 o más." };
  if (!(errorRate >= 0 && errorRate <= 1)) return { error: "La tasa de error va de 0 a 1 (0.5 = la mitad)." };
  if (!Number.isInteger(status) || status < 400 || status > 599) return { error: "El código va de 400 a 599." };
  if (!(dropRate >= 0 && dropRate <= 1)) return { error: "La pérdida va de 0 a 1 (0.3 = 30 %)." };
  const hang = form.elements.hang.checked;
  return { body: { latency, jitter, error_rate: errorRate, status, hang, drop_rate: dropRate } };
}

function setupFaultForm() {
  const form = $("#faults-form");
  const send = (button, action, body) => {
    const service = form.elements.service.value;
    if (service) runAction(button, service, action, body);
    else showMessage("Elegí un servicio.", "error");
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { body, error } = readFaults(form);
    if (error) showMessage(error, "error");
    else send($('button[data-action="inject"]', form), "faults", body);
  });
  const heal = $('button[data-action="heal"]', form);
  heal.addEventListener("click", () => send(heal, "heal"));
}

// ---------- circuit breakers ----------

const breakerKey = (b) => `${b.caller}→${b.target}`;

function createBreakerRow(breaker) {
  return el("div", { class: "breaker", "data-breaker": breakerKey(breaker) },
    el("span", { class: "name", text: `${breaker.caller} → ${breaker.target}` }),
    el("span", { class: "state" }),
    el("div", { class: "strip-wrap" }, svgEl("svg", { class: "strip", role: "img", height: STRIP_H })));
}

/** [{state, from, to}] over [start, end], from since_state and the transitions. */
function breakerSegments(breaker, start, end) {
  const history = list(breaker.history);
  let state = breaker.since_state || (history.length ? "closed" : breaker.state);
  let from = start;
  const segments = [];
  for (const change of history) {
    const at = Math.min(Math.max(change.at, start), end);
    if (at > from) segments.push({ state, from, to: at });
    state = change.state;
    from = Math.max(from, at);
  }
  segments.push({ state, from, to: end });
  return segments;
}

function drawStrip(svg, breaker, marks, now, windowS) {
  const width = svg.clientWidth || svg.parentNode.clientWidth || 800;
  const x = (t) => ((t - (now - windowS)) / windowS) * width;
  const segments = breakerSegments(breaker, now - windowS, now)
    .map((seg) => ({ ...seg, ...visibleSpan(x(seg.from), x(seg.to), width) }));
  // Short segments (a probe's half-open lasts milliseconds) go last: drawn over their
  // neighbours at MIN_SEGMENT_PX, they cannot be hidden by them.
  segments.sort((a, b) => Number(a.widened) - Number(b.widened));
  const nodes = segments.map(segmentNode);
  for (const group of labelMarks(marks, x, width)) nodes.push(markNode(group, x));
  svg.setAttribute("viewBox", `0 0 ${width} ${STRIP_H}`);
  svg.replaceChildren(...nodes);
  const word = BREAKER_WORDS[breaker.state] || breaker.state;
  const changes = list(breaker.history).length;
  svg.setAttribute("aria-label", `${breaker.caller} → ${breaker.target}: ${word}; ${changes} cambios en la ventana`);
}

/** Pixels [x0, x1] of a segment, widened around its middle to MIN_SEGMENT_PX if shorter. */
function visibleSpan(x0, x1, width) {
  if (x1 - x0 >= MIN_SEGMENT_PX) return { x0, x1, widened: false };
  const left = Math.min(Math.max(0, (x0 + x1 - MIN_SEGMENT_PX) / 2), width - MIN_SEGMENT_PX);
  return { x0: left, x1: left + MIN_SEGMENT_PX, widened: true };
}

function segmentNode(seg) {
  const word = BREAKER_WORDS[seg.state] || seg.state;
  const group = svgEl("g", { class: `seg seg-${seg.state}` },
    svgEl("title", { text: `${word} de ${epochClock(seg.from)} a ${epochClock(seg.to)}` }),
    svgEl("rect", { x: seg.x0, y: BAR_TOP, width: seg.x1 - seg.x0, height: STRIP_H - BAR_TOP }));
  if (seg.x1 - seg.x0 > textWidth(word, 15) + 12) {
    group.append(svgEl("text", { x: seg.x0 + 6, y: BAR_TOP + 22, text: word }));
  }
  return group;
}

// ---------- marks on a strip ----------

/** Groups of marks, each with a label that overlaps no other label, crosses no tick and
 * stays in the strip. Ticks closer than MERGE_PX share a label ("apagado ×2, revivido ×2");
 * labels take rows newest first, so when there is no room it is an older group that joins
 * its newer neighbour: every tick keeps a label that says which ticks it names. */
function labelMarks(marks, x, width) {
  const sorted = [...marks].sort((a, b) => a.at - b.at);
  const groups = [];
  for (const mark of sorted) {
    const last = groups[groups.length - 1];
    if (last && x(mark.at) - x(last[last.length - 1].at) < MERGE_PX) last.push(mark);
    else groups.push([mark]);
  }
  for (;;) {
    const placed = placeLabels(groups, x, width);
    const failed = placed.findIndex((label) => label === null);
    if (failed < 0 || groups.length === 1) {
      return groups.map((marksOf, i) => ({ marks: marksOf, label: placed[i] }));
    }
    const older = Math.min(failed, groups.length - 2); // the newest joins the one before it
    groups.splice(older, 2, [...groups[older], ...groups[older + 1]]);
  }
}

/** For each group (oldest first) its label {x, row, anchor, text}, or null if none fits. */
function placeLabels(groups, x, width) {
  const taken = Array.from({ length: LABEL_ROWS }, () => []); // [left, right] per row
  const ticks = groups.map((marks) => marks.map((mark) => x(mark.at)));
  const clear = (own, left, right) => ticks.every((xs, group) => group === own
    || xs.every((tick) => tick < left - TICK_CLEARANCE || tick > right + TICK_CLEARANCE));
  const free = (own, row, left, right) => left >= 0 && right <= width && clear(own, left, right)
    && taken[row].every(([l, r]) => right + LABEL_GAP <= l || r + LABEL_GAP <= left);
  const placed = new Array(groups.length).fill(null);
  for (let i = groups.length - 1; i >= 0; i--) {
    const text = groupWords(groups[i]);
    const size = textWidth(text, 13);
    const first = x(groups[i][0].at);
    const last = x(groups[i][groups[i].length - 1].at);
    // After the newest tick, or (near «ahora», or crowded) before the oldest one; the
    // first row before the second, so that neighbours read along one line.
    const sides = [{ left: last + 4, anchor: "start" }, { left: first - 4 - size, anchor: "end" }];
    const slots = [...Array(LABEL_ROWS).keys()].flatMap((row) => sides.map((side) => ({ row, ...side })));
    const slot = slots.find(({ row, left }) => free(i, row, left, left + size));
    if (slot) {
      taken[slot.row].push([slot.left, slot.left + size]);
      const at = slot.anchor === "start" ? slot.left : slot.left + size;
      placed[i] = { x: at, row: slot.row, anchor: slot.anchor, text };
    }
  }
  return placed;
}

/** "apagado", or for several marks each word once with its count: "apagado ×2, revivido". */
function groupWords(marks) {
  const counts = new Map();
  for (const mark of marks) {
    const word = MARK_WORDS[mark.action] || String(mark.action);
    counts.set(word, (counts.get(word) || 0) + 1);
  }
  return [...counts].map(([word, n]) => (n > 1 ? `${word} ×${n}` : word)).join(", ");
}

/** Ticks of a group of kill/revive/inject/heal marks, with their label (if it fits). */
function markNode(group, x) {
  const times = group.marks.map((m) => `${m.service} ${MARK_WORDS[m.action] || m.action} a las ${epochClock(m.at)}`);
  const xs = group.marks.map((m) => x(m.at));
  const left = Math.min(...xs);
  const node = svgEl("g", { class: "mark" },
    svgEl("title", { text: times.join("\n") }),
    svgEl("rect", { class: "hit", x: left - 5, y: 0, width: Math.max(...xs) - left + 10, height: STRIP_H }),
    // Down to the bar's top edge only: a tick must not hide a short state under it.
    ...xs.map((at) => svgEl("line", { x1: at, x2: at, y1: 0, y2: BAR_TOP + TICK_INTO_BAR })));
  const label = group.label;
  if (label) {
    node.append(svgEl("text", {
      class: "mark-label", x: label.x, y: 12 + label.row * 14, "text-anchor": label.anchor, text: label.text,
    }));
  }
  return node;
}

/** Width in px of `text` in the strip's bold font at `size` px (measured, not guessed). */
function textWidth(text, size) {
  const key = `${size}:${text}`;
  if (!textWidths.has(key)) {
    measurer.font = `700 ${size}px ${getComputedStyle(document.body).fontFamily}`;
    textWidths.set(key, Math.ceil(measurer.measureText(text).width));
  }
  return textWidths.get(key);
}

function renderBreakers(snapshot) {
  const box = $("#breaker-list");
  const breakers = list(snapshot.breakers);
  const windowS = snapshot.window_s > 0 ? snapshot.window_s : 300;
  const marks = list(snapshot.marks);
  reconcile(box, breakers, breakerKey, createBreakerRow, (row, breaker) => {
    const state = $(".state", row);
    setText(state, BREAKER_WORDS[breaker.state] || String(breaker.state));
    state.dataset.state = breaker.state;
    const own = marks.filter((m) => m.service === breaker.target);
    drawStrip($("svg", row), breaker, own, snapshot.now, windowS);
  });
  box.dataset.empty = breakers.length ? "no" : "yes";
  renderAxis(windowS);
}

function renderAxis(windowS) {
  const axis = $("#breaker-axis");
  if (axis.dataset.window === String(windowS)) return;
  axis.dataset.window = String(windowS);
  const step = [5, 10, 15, 30, 60, 120, 300, 600, 1800].find((s) => windowS / s <= 6) || 3600;
  const labels = [];
  for (let back = Math.floor(windowS / step) * step; back >= 0; back -= step) {
    const text = back === 0 ? "ahora" : back % 60 ? `hace ${back} s` : `hace ${back / 60} min`;
    const edge = back === windowS ? "first" : back === 0 ? "last" : null;
    labels.push(el("span", { class: edge, style: `left:${(1 - back / windowS) * 100}%`, text }));
  }
  axis.replaceChildren(...labels);
}

// ---------- logs ----------

function addLogs(records) {
  records = list(records).filter((r) => r && typeof r === "object");
  if (!records.length) return;
  noteServices(records.map((r) => r.service));
  if (paused) pendingLogs = pendingLogs.concat(records).slice(-MAX_LOGS);
  else appendLogLines(records);
  updateLogCount();
}

/** Adds lines at the bottom, drops the oldest past MAX_LOGS, and keeps the view steady. */
function appendLogLines(records) {
  const box = $("#log-lines");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
  const filters = readLogFilters();
  const lines = records.slice(-MAX_LOGS).map(logLine);
  for (const line of lines) line.hidden = !logMatches(line, filters);
  box.append(...lines);
  const height = box.scrollHeight;
  while (box.childElementCount > MAX_LOGS) box.firstElementChild.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
  else box.scrollTop -= height - box.scrollHeight; // the reader scrolled up: stay on their lines
}

function logLine(record) {
  const level = String(record.level || "INFO").toUpperCase();
  const service = String(record.service ?? "");
  const attrs = { class: "log-line", "data-service": service, "data-event": record.event ?? "", "data-level": level };
  const color = `color:color-mix(in srgb, ${serviceColor(service)} 65%, black)`; // readable on white
  const line = el("div", attrs,
    el("span", { class: "t", text: clock(new Date(record.ts), true) || String(record.ts ?? "") }), " ",
    el("span", { class: `lvl lvl-${level}`, text: level }), " ",
    el("span", { class: "svc", text: service, style: color }), " ",
    el("span", { class: "ev", text: String(record.event ?? "") }));
  for (const [key, value] of Object.entries(record)) {
    if (LOG_FIXED.has(key) || value === null || value === undefined) continue;
    line.append(" ", el("span", { class: "k", text: `${key}=` }), logValue(key, value));
  }
  searchText.set(line, JSON.stringify(record).toLowerCase());
  return line;
}

function logValue(key, value) {
  if ((key === "request_id" || key === "trace_id") && typeof value === "string" && value) {
    // tabindex -1: hundreds of ids would stand between the filters and «Trazas» for Tab;
    // with the keyboard, a trace opens from the «Trazas» table.
    return el("button", { type: "button", class: "trace-link", "data-trace": value, text: value, tabindex: "-1" });
  }
  const quote = typeof value !== "string" || value === "" || /\s/.test(value);
  return el("span", { class: "v", text: quote ? JSON.stringify(value) : value });
}

function readLogFilters() {
  return {
    service: $("#log-service").value,
    event: $("#log-event").value.trim().toLowerCase(),
    level: LEVELS[$("#log-level").value] || 0,
    text: $("#log-text").value.trim().toLowerCase(),
  };
}

function logMatches(line, f) {
  return (!f.service || line.dataset.service === f.service)
    && (!f.event || line.dataset.event.toLowerCase().includes(f.event))
    && (!f.level || (LEVELS[line.dataset.level] ?? 20) >= f.level)
    && (!f.text || searchText.get(line).includes(f.text));
}

function applyLogFilters() {
  const filters = readLogFilters();
  const box = $("#log-lines");
  for (const line of box.children) line.hidden = !logMatches(line, filters);
  box.scrollTop = box.scrollHeight;
  updateLogCount();
}

function updateLogCount() {
  const box = $("#log-lines");
  const shown = box.querySelectorAll(".log-line:not([hidden])").length;
  const total = box.childElementCount;
  let text = total ? `Mostrando ${shown} de ${total} (se guardan los últimos ${MAX_LOGS}).` : "Sin registros todavía.";
  if (paused) text += ` En pausa: ${pendingLogs.length} nuevos en espera.`;
  setText($("#log-count"), text);
}

function togglePause() {
  paused = !paused;
  const button = $("#log-pause");
  button.textContent = paused ? "Seguir" : "Pausar";
  button.setAttribute("aria-pressed", String(paused));
  if (!paused) {
    appendLogLines(pendingLogs);
    pendingLogs = [];
    $("#log-lines").scrollTop = $("#log-lines").scrollHeight;
  }
  updateLogCount();
}

function setupLogs() {
  for (const id of ["#log-service", "#log-level"]) $(id).addEventListener("change", applyLogFilters);
  for (const id of ["#log-event", "#log-text"]) $(id).addEventListener("input", applyLogFilters);
  $("#log-pause").addEventListener("click", togglePause);
  $("#log-lines").addEventListener("click", (event) => {
    const link = event.target.closest(".trace-link");
    if (link) openTrace(link.dataset.trace, true);
  });
}

// ---------- traces ----------

const traceKey = (t) => String(t.trace_id || t.request_id || "");

function createTraceRow(trace) {
  const row = el("tr", { class: "trace-row", "data-trace": traceKey(trace), tabindex: "0" },
    ...["at", "method", "path", "status", "num dur", "svcs"].map((cls) => el("td", { class: cls })));
  row.addEventListener("click", () => openTrace(row.dataset.trace));
  row.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    openTrace(row.dataset.trace);
  });
  return row;
}

function updateTraceRow(row, trace) {
  setText($(".at", row), epochClock(trace.at));
  setText($(".method", row), String(trace.method ?? ""));
  setText($(".path", row), String(trace.path ?? ""));
  const status = $(".status", row);
  setText(status, String(trace.status ?? "—"));
  status.dataset.class = statusClass(trace.status);
  setText($(".dur", row), num(trace.duration_ms));
  setText($(".svcs", row), list(trace.services).join(", "));
  row.classList.toggle("selected", row.dataset.trace === $("#waterfall").dataset.trace);
}

function selectTrace(id) {
  $("#waterfall").dataset.trace = id;
  for (const row of document.querySelectorAll("#traces .trace-row")) {
    row.classList.toggle("selected", row.dataset.trace === id);
  }
}

/** Loads one trace (by trace id or request id) and draws its waterfall. */
async function openTrace(id, reveal = false) {
  const ticket = ++traceTicket;
  const box = $("#waterfall");
  selectTrace(id);
  box.replaceChildren(el("p", { class: "note", text: `Cargando la traza ${id}…` }));
  if (reveal) $("#traces").scrollIntoView({ behavior: "smooth", block: "start" });
  const result = await request(`/api/traces/${encodeURIComponent(id)}?token=${encodeURIComponent(TOKEN)}`);
  if (ticket !== traceTicket) return; // a newer click won
  if (!result.ok) {
    box.replaceChildren(el("p", { class: "note error", text: result.text }));
    showMessage(result.text, "error");
    return;
  }
  const traceId = String(result.data?.trace_id || id);
  const rows = list(result.data?.rows);
  selectTrace(traceId);
  renderWaterfall(traceId, rows);
  showMessage(`Traza ${traceId}: ${rows.length} tramos.`, "ok");
}

function renderWaterfall(traceId, rows) {
  const end = (r) => (Number(r.start_ms) || 0) + (Number(r.duration_ms) || 0);
  const total = Math.max(0.001, ...rows.map(end));
  const title = el("h3", {}, "Traza ", el("code", { text: traceId }),
    ` — ${rows.length} tramos, ${num(total)} ms en total`);
  if (!rows.length) {
    $("#waterfall").replaceChildren(title, el("p", { class: "note", text: "No hay registros para esa traza." }));
    return;
  }
  const head = ["Servicio", "Qué", "Resultado", "Inicio (ms)", "Duración (ms)", "Cascada"]
    .map((h, i) => el("th", { scope: "col", class: i === 3 || i === 4 ? "num" : null, text: h }));
  const table = el("table", { class: "data waterfall" },
    el("thead", {}, el("tr", {}, ...head)), el("tbody", {}, ...rows.map((r) => spanRow(r, total))));
  $("#waterfall").replaceChildren(title, el("div", { class: "table-wrap" }, table));
  // Below a long table the cascade would open off screen: bring it into view.
  $("#waterfall").scrollIntoView({ block: "start", behavior: "smooth" });
}

function spanRow(span, total) {
  const service = String(span.service ?? "");
  const left = (100 * (Number(span.start_ms) || 0)) / total;
  const width = Math.max(0.4, (100 * (Number(span.duration_ms) || 0)) / total);
  const style = `left:${left}%;width:${width}%;background:${serviceColor(service)}`;
  const bar = el("div", { class: "bar", style });
  return el("tr", { class: "span-row", "data-service": service },
    el("td", { class: "svc" }, dot(service), service),
    el("td", { class: "label", text: String(span.label ?? "") }),
    el("td", { class: "result", "data-class": statusClass(span.result), text: String(span.result ?? "") }),
    el("td", { class: "num", text: num(span.start_ms) }),
    el("td", { class: "num", text: num(span.duration_ms) }),
    el("td", { class: "track-cell" }, el("div", { class: "track" }, bar)));
}

// ---------- metrics ----------

function createMetricCard(name) {
  return el("div", { class: "metric-card", "data-service": name },
    el("h3", {}, dot(name), name), chartBox("rps", "req/s"), chartBox("p99_ms", "p99 (ms)"));
}

function chartBox(metric, label) {
  return el("figure", { class: "chart-box", "data-metric": metric },
    el("figcaption", {},
      el("span", { text: label }), " ", el("strong", { class: "value" }), el("span", { class: "max" })),
    svgEl("svg", { viewBox: "0 0 300 80", preserveAspectRatio: "none", role: "img", class: "chart" },
      svgEl("line", { class: "base", x1: 0, x2: 300, y1: 79, y2: 79 }), svgEl("path", { class: "line" })));
}

/** SVG path through the points (300 x 80 box); a null leaves a gap. */
function linePath(values, max) {
  const step = values.length > 1 ? 300 / (values.length - 1) : 0;
  let d = "";
  let drawing = false;
  values.forEach((v, i) => {
    const ok = typeof v === "number" && Number.isFinite(v);
    if (ok) d += `${drawing ? "L" : "M"}${(i * step).toFixed(1)},${(76 - (v / max) * 70).toFixed(1)}`;
    drawing = ok;
  });
  return d;
}

function updateChart(box, name, values) {
  const numbers = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  const max = Math.max(...numbers, 0);
  const last = num(values[values.length - 1]);
  setText($(".value", box), last);
  setText($(".max", box), numbers.length ? `máx ${num(max)}` : "sin datos");
  const path = $("path", box);
  path.setAttribute("d", linePath(values, max > 0 ? max * 1.1 : 1));
  path.style.stroke = serviceColor(name);
  $("svg", box).setAttribute("aria-label", `${$("figcaption span", box).textContent} de ${name}: ${last}`);
}

function renderMetrics(snapshot) {
  const metrics = snapshot.metrics || {};
  const series = metrics.series || {};
  const names = list(snapshot.services).map((s) => s.name).filter((n) => series[n]);
  for (const name of Object.keys(series)) if (!names.includes(name)) names.push(name);
  reconcile($("#metric-grid"), names, (n) => n, createMetricCard, (card, name) => {
    for (const box of card.querySelectorAll(".chart-box")) {
      updateChart(box, name, list(series[name][box.dataset.metric]));
    }
  });
  const step = metrics.step_s || 1;
  const seconds = step * (metrics.points || 60);
  setText($("#metrics-note"), `Últimos ${seconds} s, un punto cada ${step} s. El número es el último valor.`);
}

// ---------- sticky bar ----------

/** Keeps --statusbar-h equal to the sticky «En vivo» bar's height (a long message wraps it):
 * the page's scroll-padding then brings a focused row or a trace into view below the bar. */
function trackStatusbar() {
  const bar = $(".statusbar");
  const update = () => document.documentElement.style.setProperty("--statusbar-h", `${bar.offsetHeight}px`);
  new ResizeObserver(update).observe(bar);
  update();
}

// ---------- live stream ----------

function setConnection(text, state) {
  const box = $("#connection");
  box.dataset.state = state;
  setText(box, text);
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

function handleSnapshot(snapshot) {
  if (!snapshot || typeof snapshot !== "object") return;
  const services = list(snapshot.services);
  const names = services.map((s) => String(s.name));
  keepFocus(() => {
    reconcile($("#services tbody"), services, (s) => String(s.name), createServiceRow, updateServiceRow);
    syncOptions($("#faults-form").elements.service, names);
    noteServices(names);
    renderBreakers(snapshot);
    const traces = list(snapshot.traces).filter(traceKey);
    reconcile($("#traces tbody"), traces, traceKey, createTraceRow, updateTraceRow);
    renderMetrics(snapshot);
  });
}

/** After the browser gave up on the stream: was it refused (403)? Shows why if so. */
async function streamForbidden(url) {
  const controller = new AbortController();
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (response.status !== 403) return false;
    const data = await response.json().catch(() => null);
    showAuthError(`Acceso denegado: ${detailText(data, "falta el token o no es el correcto.")}`);
    setConnection("Sin acceso (token)", "lost");
    return true;
  } catch {
    return false; // server unreachable: keep retrying
  } finally {
    controller.abort();
  }
}

function connect() {
  const url = `/api/stream?token=${encodeURIComponent(TOKEN)}`;
  const source = new EventSource(url);
  const on = (name, handle) => source.addEventListener(name, (event) => {
    setConnection("En vivo", "live");
    handle(parse(event.data));
  });
  on("snapshot", handleSnapshot);
  on("logs", addLogs);
  source.addEventListener("error", () => {
    setConnection("Conexión perdida; reintentando…", "lost");
    if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    // It stopped retrying (an error status, say): find out why, then retry ourselves.
    source.close();
    streamForbidden(url).then((forbidden) => forbidden || setTimeout(connect, 3000));
  });
}

trackStatusbar();
setupFaultForm();
setupLogs();
if (!TOKEN) showAuthError("");
connect();
