// The fleet page: asks the monitor for /api/fleet every 2 s and draws what it says. The plot is
// SVG drawn here; nothing is loaded from anywhere but the monitor.
"use strict";

const REFRESH_MS = 2000;
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f6feb", "#d9480f", "#2b8a3e", "#9c36b5", "#e67700", "#0b7285", "#c2255c"];
const FIELDS = [  // the table's columns after the name and state: [field, digits]
  ["per_min_1m", 0], ["per_min_1h", 2], ["per_min_24h", 2], ["accepted", 0], ["rejected", 0],
  ["hash_rate", 0], ["snd_res_ms", 0], ["req_job_ms", 0], ["faults_1h", 0],
];
let range = "hour";
let last = null;

function number(value, digits) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function ago(then, now) {
  if (then === null || then === undefined) return "never";
  const s = Math.max(0, Math.round(now - then));
  if (s < 90) return s + " s ago";
  if (s < 5400) return Math.round(s / 60) + " min ago";
  if (s < 129600) return Math.round(s / 3600) + " h ago";
  return Math.round(s / 86400) + " d ago";
}

function cell(row, text, field, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (field) td.dataset.field = field;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function stateCell(row, state, title) {
  const td = cell(row, "", "state");
  const span = document.createElement("span");
  span.className = "state state-" + state.replace(/ /g, "-");
  span.textContent = state;
  if (title) span.title = title;
  td.appendChild(span);
}

function figureRow(kind, label, item, rig, now) {
  const tr = document.createElement("tr");
  tr.className = kind;
  tr.dataset.rig = rig;
  if (kind === "target") tr.dataset.target = item.target;
  cell(tr, label, "name");
  if (kind === "rig") {
    const state = item.connection === "online" && item.looping ? "online" : item.connection;
    stateCell(tr, state, item.detail);
  } else {
    stateCell(tr, item.state);
  }
  for (const [field, digits] of FIELDS) cell(tr, number(item[field], digits), field);
  const line = cell(tr, item.last_fault || "", "last_fault", "line");
  if (item.last_fault_at) line.title = new Date(item.last_fault_at * 1000).toLocaleString() + "  " + item.last_fault;
  cell(tr, ago(item.last_seen, now), "last_seen");
  return tr;
}

function renderRigs(data) {
  const body = document.querySelector("#rigs tbody");
  const rows = [];
  for (const rig of data.rigs) {
    const where = rig.host + ":" + rig.port + (rig.looping ? ", looping" : "");
    rows.push(figureRow("rig", rig.name + "  (" + where + ")", rig, rig.name, data.now));
    for (const t of rig.targets) rows.push(figureRow("target", "target " + t.target, t, rig.name, data.now));
  }
  body.replaceChildren(...rows);
}

function renderSummary(data) {
  const online = data.rigs.filter((r) => r.connection === "online").length;
  const sum = (f) => data.rigs.reduce((a, r) => a + (r[f] || 0), 0);
  let text = online + " of " + data.rigs.length + " rigs online, " + sum("per_min_1m") +
    " shares in the last minute, " + sum("accepted") + " accepted, " + sum("rejected") + " rejected";
  if (data.wallet && data.wallet.duco_per_day !== null) text += ", " + data.wallet.duco_per_day.toFixed(2) + " Duco/d";
  const summary = document.getElementById("summary");
  summary.textContent = text;
  summary.dataset.online = online;
}

function svg(name, attrs, parent) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function clock(t) {
  const d = new Date(t * 1000);
  return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
}

function renderPlot(data) {
  const plot = data.plot[range];
  const el = document.getElementById("plot");
  el.replaceChildren();
  const W = 900, H = 260, left = 46, right = 150, top = 12, bottom = 30;
  const names = Object.keys(plot.rigs);
  const n = names.length ? plot.rigs[names[0]].length : 0;
  const fleet = new Array(n).fill(0);
  for (const name of names) plot.rigs[name].forEach((v, i) => { fleet[i] += v; });
  const max = Math.max(1, ...fleet);
  const step = Math.pow(10, Math.floor(Math.log10(max)));
  const top_value = Math.ceil(max / step) * step;
  const x = (i) => left + (i + 0.5) * (W - left - right) / Math.max(1, n);
  const y = (v) => H - bottom - v / top_value * (H - top - bottom);
  for (let k = 0; k <= 4; k++) {  // grid and y labels
    const v = top_value * k / 4;
    svg("line", {x1: left, x2: W - right, y1: y(v), y2: y(v), stroke: "#eceff3"}, el);
    svg("text", {x: left - 6, y: y(v) + 4, "text-anchor": "end"}, el).textContent = +v.toFixed(2);
  }
  const tick_s = range === "day" ? 3 * 3600 : 600;  // time labels at whole hours or ten minutes
  for (let i = 0; i < n; i++) {
    const t = plot.start + i * plot.bucket_s;
    if (t % tick_s !== 0) continue;
    svg("line", {x1: x(i), x2: x(i), y1: H - bottom, y2: H - bottom + 4, stroke: "#888"}, el);
    svg("text", {x: x(i), y: H - 10, "text-anchor": "middle"}, el).textContent = clock(t);
  }
  const series = names.map((name, i) => [name, plot.rigs[name], COLOURS[i % COLOURS.length], 1.5]);
  if (names.length > 1) series.push(["fleet", fleet, "#1b1f24", 2.5]);
  series.forEach(([name, values, colour, width], i) => {
    const points = values.map((v, j) => x(j).toFixed(1) + "," + y(v).toFixed(1)).join(" ");
    const line = svg("polyline", {points: points, fill: "none", stroke: colour, "stroke-width": width}, el);
    line.dataset.series = name;
    line.dataset.total = values.reduce((a, v) => a + v, 0).toFixed(3);
    svg("rect", {x: W - right + 14, y: top + 6 + i * 18, width: 12, height: 4, fill: colour}, el);
    svg("text", {x: W - right + 32, y: top + 11 + i * 18}, el).textContent = name;
  });
}

function renderWallet(data) {
  const section = document.getElementById("wallet");
  section.hidden = !data.wallet;
  if (!data.wallet) return;
  document.getElementById("wallet-user").textContent = data.wallet.user;
  const rows = data.wallet.rows.slice().reverse().map((r) => {
    const tr = document.createElement("tr");
    cell(tr, r.time, "time");
    if (r.error) {
      const td = cell(tr, "error: " + r.error, "error", "line");
      td.colSpan = 5;
    } else {
      cell(tr, number(r.total, 3), "total");
      cell(tr, r.ping, "ping");
      cell(tr, number(r.change, 3), "change");
      cell(tr, number(r.minute, 3), "minute");
      cell(tr, number(r.duco_per_day, 2), "duco_per_day");
    }
    return tr;
  });
  document.querySelector("#balance tbody").replaceChildren(...rows);
}

function render(data) {
  last = data;
  renderSummary(data);
  renderRigs(data);
  renderPlot(data);
  renderWallet(data);
  document.body.dataset.updated = data.now;  // which snapshot the page shows
  document.getElementById("problem").hidden = true;
}

async function refresh() {
  try {
    const answer = await fetch("api/fleet", {cache: "no-store"});
    if (!answer.ok) throw new Error("HTTP " + answer.status);
    render(await answer.json());
  } catch (err) {
    const problem = document.getElementById("problem");
    problem.textContent = "the monitor does not answer (" + err.message + "); the figures below are old";
    problem.hidden = false;
  }
  setTimeout(refresh, REFRESH_MS);
}

for (const button of document.querySelectorAll(".ranges button")) {
  button.addEventListener("click", () => {
    range = button.dataset.range;
    for (const b of document.querySelectorAll(".ranges button")) b.classList.toggle("on", b === button);
    if (last) renderPlot(last);
  });
}
refresh();
