/**
 * The web console: one self-contained HTML page (inline CSS and JS, nothing loaded from
 * anywhere else) that polls the JSON API: cluster, live throughput, topics and partitions,
 * record peek, consumer groups with lag. No build step.
 *
 * The page is a String.raw literal, so its script must not use backticks or "${".
 * Everything shown is built with textContent (never innerHTML), so topic names, keys and
 * values cannot inject markup.
 */
export const consoleHtml: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tributary console</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f4f6f9; --card: #fff; --ink: #1d2733; --muted: #667385; --line: #e1e6ed;
  --accent: #1f6feb; --accent-soft: #e8f0fe; --ok: #1a7f37; --warn: #b35900; --bad: #cf222e;
  --in: #1f6feb; --out: #8250df;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg); color: var(--ink); }
header { background: #0d1b2a; color: #fff; padding: 12px 24px; display: flex;
  align-items: center; gap: 24px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; letter-spacing: .2px; }
header h1 span { color: #7fb2ff; }
header .meta { display: flex; gap: 18px; flex-wrap: wrap; color: #c4d0de; font-size: 13px; }
header .meta b { color: #fff; font-weight: 500; }
.dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  background: var(--ok); margin-right: 6px; vertical-align: middle; }
.dot.stale { background: var(--bad); }
main { padding: 20px 24px 40px; display: grid; gap: 20px; max-width: 1400px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 16px 18px; }
.card h2 { font-size: 15px; margin: 0 0 12px; font-weight: 600; display: flex;
  align-items: baseline; gap: 10px; }
.card h2 small { color: var(--muted); font-weight: 400; font-size: 12px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px;
  margin-bottom: 12px; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.kpi .label { color: var(--muted); font-size: 12px; }
.kpi .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.kpi.in .value { color: var(--in); } .kpi.out .value { color: var(--out); }
canvas { width: 100%; height: 90px; display: block; }
.legend { font-size: 12px; color: var(--muted); display: flex; gap: 14px; margin-top: 4px; }
.legend i { display: inline-block; width: 10px; height: 3px; vertical-align: middle;
  margin-right: 4px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 500; background: #fafbfc; }
td.num, th.num { text-align: right; }
tbody tr.click { cursor: pointer; }
tbody tr.click:hover { background: var(--accent-soft); }
tbody tr.selected { background: var(--accent-soft); box-shadow: inset 3px 0 0 var(--accent); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 12px 2px; }
.pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  background: #eef1f5; }
.pill.Stable { background: #dafbe1; color: var(--ok); }
.pill.Empty { background: #eef1f5; color: var(--muted); }
.pill.PreparingRebalance, .pill.CompletingRebalance { background: #fff1e5; color: var(--warn); }
.pill.Dead { background: #ffebe9; color: var(--bad); }
.pill.b64 { background: #fff8c5; color: #7d4e00; margin-left: 4px; }
.pill.internal { margin-left: 6px; font-family: system-ui, sans-serif; color: var(--muted); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
@media (max-width: 1000px) { .grid2 { grid-template-columns: 1fr; } }
form.peek { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin: 12px 0; }
form.peek label { display: grid; gap: 2px; font-size: 12px; color: var(--muted); }
input, select, button { font: inherit; padding: 5px 8px; border: 1px solid var(--line);
  border-radius: 5px; background: #fff; }
input { width: 120px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
button:hover { filter: brightness(1.08); }
.value-cell { max-width: 520px; overflow-wrap: anywhere; white-space: pre-wrap; }
.banner { padding: 10px 14px; border-radius: 6px; background: #ffebe9; color: var(--bad);
  border: 1px solid #ffcecb; }
.note { color: var(--muted); font-size: 13px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 12px; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; }
</style>
</head>
<body>
<header>
  <h1>Tributary <span>console</span></h1>
  <div class="meta">
    <div><span id="live" class="dot stale"></span><span id="live-text">connecting</span></div>
    <div>cluster <b id="cluster-id" class="mono">-</b></div>
    <div>broker <b id="broker-addr" class="mono">-</b></div>
    <div>uptime <b id="uptime">-</b></div>
    <div>connections <b id="connections">-</b></div>
  </div>
</header>
<main>
  <div id="error" class="banner" hidden></div>

  <section class="card" id="throughput">
    <h2>Throughput <small>live, every <span id="interval">2</span> s</small></h2>
    <div class="kpis">
      <div class="kpi in"><div class="label">Bytes in / s</div>
        <div class="value" id="rate-bytes-in">-</div></div>
      <div class="kpi in"><div class="label">Records in / s</div>
        <div class="value" id="rate-records-in">-</div></div>
      <div class="kpi out"><div class="label">Bytes out / s</div>
        <div class="value" id="rate-bytes-out">-</div></div>
      <div class="kpi"><div class="label">Records produced (total)</div>
        <div class="value" id="total-records-in">-</div></div>
      <div class="kpi"><div class="label">Requests (failed)</div>
        <div class="value" id="total-requests">-</div></div>
    </div>
    <canvas id="chart" width="1200" height="90"></canvas>
    <div class="legend"><span><i style="background:var(--in)"></i>bytes in/s</span>
      <span><i style="background:var(--out)"></i>bytes out/s</span>
      <span id="chart-max"></span></div>
  </section>

  <section class="card">
    <h2>Topics <small id="topic-count"></small></h2>
    <table id="topics-table">
      <thead><tr><th>Topic</th><th class="num">Partitions</th><th class="num">Messages</th>
        <th class="num">Size</th><th class="num">In B/s</th><th class="num">In rec/s</th>
        <th class="num">Out B/s</th></tr></thead>
      <tbody id="topics-body"></tbody>
    </table>
    <div id="topics-empty" class="empty" hidden>No topics yet.</div>
  </section>

  <section class="card" id="topic-detail" hidden>
    <h2>Topic <span id="detail-name" class="mono"></span>
      <small id="detail-id" class="mono"></small></h2>
    <dl class="kv" id="detail-configs"></dl>
    <table id="partitions-table">
      <thead><tr><th class="num">Partition</th><th class="num">Leader</th>
        <th class="num">Log start</th><th class="num">High watermark</th>
        <th class="num">Messages</th><th class="num">Local</th><th class="num">Remote</th></tr>
      </thead>
      <tbody id="partitions-body"></tbody>
    </table>
    <form class="peek" id="peek-form">
      <label>Partition <select id="peek-partition"></select></label>
      <label>Offset <input id="peek-offset" type="number" min="0" placeholder="latest"></label>
      <label>Limit <input id="peek-limit" type="number" min="1" max="1000" value="20"></label>
      <button type="submit" id="peek-button">Peek records</button>
      <span class="note" id="peek-note"></span>
    </form>
    <table id="records-table" hidden>
      <thead><tr><th class="num">Offset</th><th>Timestamp</th><th>Key</th><th>Value</th>
        <th>Headers</th></tr></thead>
      <tbody id="records-body"></tbody>
    </table>
  </section>

  <section class="card">
    <h2>Consumer groups <small id="group-count"></small></h2>
    <div id="groups-note" class="note" hidden></div>
    <table id="groups-table">
      <thead><tr><th>Group</th><th>State</th><th>Protocol</th><th class="num">Members</th>
        <th class="num">Lag</th></tr></thead>
      <tbody id="groups-body"></tbody>
    </table>
    <div id="groups-empty" class="empty" hidden>No consumer groups.</div>
  </section>

  <section class="card" id="group-detail" hidden>
    <h2>Group <span id="group-name" class="mono"></span> <span id="group-state"></span></h2>
    <div class="grid2">
      <div>
        <h2><small>Members</small></h2>
        <table><thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Assignment</th></tr>
          </thead><tbody id="members-body"></tbody></table>
      </div>
      <div>
        <h2><small>Committed offsets</small></h2>
        <table><thead><tr><th>Topic</th><th class="num">Partition</th>
          <th class="num">Committed</th><th class="num">High watermark</th>
          <th class="num">Lag</th></tr></thead><tbody id="offsets-body"></tbody></table>
      </div>
    </div>
  </section>
</main>
<script>
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var INTERVAL = Math.max(250, Number(params.get("refresh")) || 2000);
  var HISTORY = 90;
  var state = {
    topic: null, group: null, prev: null, history: [], topicRates: {}, lastOk: 0,
    groupsUnavailable: false, peekTopic: null,
  };

  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (k === "text") el.textContent = attrs[k];
        else if (k === "class") el.className = attrs[k];
        else el.setAttribute(k, attrs[k]);
      }
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }
  function td(text, cls) { return h("td", { text: String(text), class: cls || "" }); }
  function num(n) { return Number(n).toLocaleString("en-US"); }
  function bytes(n) {
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    n = Number(n);
    while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + " " + u[i];
  }
  function rate(n) { return n == null ? "-" : (n < 10 && n > 0 ? n.toFixed(2) : num(Math.round(n))); }
  function duration(ms) {
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60);
    if (d) return d + "d " + hh + "h";
    if (hh) return hh + "h " + m + "m";
    if (m) return m + "m " + (s % 60) + "s";
    return s + "s";
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function api(path) {
    return fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        return r.text().then(function (t) {
          var body = null;
          try { body = t ? JSON.parse(t) : null; } catch (e) { body = { message: t }; }
          if (!r.ok) {
            var err = new Error((body && body.message) || ("HTTP " + r.status));
            err.status = r.status;
            err.body = body;
            throw err;
          }
          return body;
        });
      });
  }

  function showError(msg) {
    var el = $("error");
    if (!msg) { el.hidden = true; return; }
    el.hidden = false;
    el.textContent = msg;
  }

  // ---- throughput ------------------------------------------------------------------------
  function updateStats(s) {
    $("connections").textContent = num(s.connections.open);
    $("uptime").textContent = duration(s.uptimeMs);
    $("total-records-in").textContent = num(s.recordsIn);
    $("total-requests").textContent = num(s.requests.total) + " (" + num(s.requests.failed) + ")";
    var prev = state.prev;
    state.prev = s;
    if (!prev) return;
    var dt = (s.timestamp - prev.timestamp) / 1000;
    if (dt <= 0) return;
    var r = {
      bytesIn: (s.bytesIn - prev.bytesIn) / dt,
      recordsIn: (s.recordsIn - prev.recordsIn) / dt,
      bytesOut: (s.bytesOut - prev.bytesOut) / dt,
    };
    $("rate-bytes-in").textContent = bytes(r.bytesIn) + "/s";
    $("rate-records-in").textContent = rate(r.recordsIn);
    $("rate-bytes-out").textContent = bytes(r.bytesOut) + "/s";
    state.history.push(r);
    if (state.history.length > HISTORY) state.history.shift();
    var before = {};
    prev.topics.forEach(function (t) { before[t.topic] = t; });
    var rates = {};
    s.topics.forEach(function (t) {
      var p = before[t.topic] || { bytesIn: 0, recordsIn: 0, bytesOut: 0 };
      rates[t.topic] = {
        bytesIn: (t.bytesIn - p.bytesIn) / dt,
        recordsIn: (t.recordsIn - p.recordsIn) / dt,
        bytesOut: (t.bytesOut - p.bytesOut) / dt,
      };
    });
    state.topicRates = rates;
    drawChart();
  }

  function drawChart() {
    var c = $("chart"), ctx = c.getContext("2d");
    var w = c.width = c.clientWidth * (window.devicePixelRatio || 1);
    var hgt = c.height = 90 * (window.devicePixelRatio || 1);
    ctx.clearRect(0, 0, w, hgt);
    ctx.strokeStyle = "#e1e6ed";
    ctx.lineWidth = 1;
    for (var g = 1; g < 4; g++) {
      ctx.beginPath(); ctx.moveTo(0, hgt * g / 4); ctx.lineTo(w, hgt * g / 4); ctx.stroke();
    }
    var hist = state.history;
    var max = 1;
    hist.forEach(function (p) { max = Math.max(max, p.bytesIn, p.bytesOut); });
    $("chart-max").textContent = "scale: " + bytes(max) + "/s";
    function line(key, color) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2 * (window.devicePixelRatio || 1);
      ctx.beginPath();
      hist.forEach(function (p, i) {
        var x = w - (hist.length - 1 - i) * (w / (HISTORY - 1));
        var y = hgt - 3 - (p[key] / max) * (hgt - 8);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
    line("bytesIn", "#1f6feb");
    line("bytesOut", "#8250df");
  }

  // ---- topics ------------------------------------------------------------------------
  function messages(p) { return p.highWatermark - p.logStartOffset; }

  function renderTopics(list) {
    var body = $("topics-body");
    clear(body);
    $("topic-count").textContent = list.length + (list.length === 1 ? " topic" : " topics");
    $("topics-empty").hidden = list.length > 0;
    list.forEach(function (t) {
      var msgs = 0, size = 0;
      t.partitions.forEach(function (p) { msgs += messages(p); size += p.sizeBytes; });
      var r = state.topicRates[t.name];
      var tr = h("tr", {
        class: "click" + (state.topic === t.name ? " selected" : ""),
        "data-testid": "topic-row",
        "data-topic": t.name,
      },
        h("td", { class: "mono" }, h("span", { "data-col": "name", text: t.name }),
          t.internal ? h("span", { class: "pill internal", text: "internal" }) : null),
        td(t.partitions.length, "num"),
        td(num(msgs), "num"),
        td(bytes(size), "num"),
        td(r ? bytes(r.bytesIn) : "-", "num"),
        td(r ? rate(r.recordsIn) : "-", "num"),
        td(r ? bytes(r.bytesOut) : "-", "num"));
      tr.cells[1].setAttribute("data-col", "partitions");
      tr.cells[2].setAttribute("data-col", "messages");
      tr.addEventListener("click", function () { location.hash = "#/topics/" + encodeURIComponent(t.name); });
      body.appendChild(tr);
    });
    var sel = state.topic && list.filter(function (t) { return t.name === state.topic; })[0];
    if (sel) renderTopicDetail(sel);
    else $("topic-detail").hidden = true;
  }

  function renderTopicDetail(t) {
    $("topic-detail").hidden = false;
    $("detail-name").textContent = t.name;
    $("detail-id").textContent = "id " + t.topicId;
    var dl = $("detail-configs");
    clear(dl);
    var keys = Object.keys(t.configs);
    if (keys.length === 0) {
      dl.appendChild(h("dt", { text: "configs" }));
      dl.appendChild(h("dd", { class: "muted", text: "broker defaults" }));
    }
    keys.forEach(function (k) {
      dl.appendChild(h("dt", { class: "mono", text: k }));
      dl.appendChild(h("dd", { class: "mono", text: String(t.configs[k]) }));
    });
    var body = $("partitions-body");
    clear(body);
    t.partitions.forEach(function (p) {
      var tr = h("tr", { "data-testid": "partition-row", "data-partition": String(p.partition) },
        td(p.partition, "num"), td(p.leader, "num"), td(num(p.logStartOffset), "num"),
        td(num(p.highWatermark), "num"), td(num(messages(p)), "num"), td(bytes(p.localBytes), "num"),
        td(p.remoteBytes ? bytes(p.remoteBytes) : "-", "num"));
      tr.cells[3].setAttribute("data-col", "highWatermark");
      tr.cells[2].setAttribute("data-col", "logStartOffset");
      body.appendChild(tr);
    });
    var select = $("peek-partition");
    if (state.peekTopic !== t.name || select.options.length !== t.partitions.length) {
      var keep = select.value;
      clear(select);
      t.partitions.forEach(function (p) {
        select.appendChild(h("option", { value: String(p.partition), text: String(p.partition) }));
      });
      if (state.peekTopic === t.name && keep) select.value = keep;
      if (state.peekTopic !== t.name) {
        $("records-table").hidden = true;
        $("peek-note").textContent = "";
      }
      state.peekTopic = t.name;
    }
    state.partitions = t.partitions;
  }

  function cellValue(v, enc) {
    if (v === null) return h("td", { class: "mono muted", text: "null" });
    var cell = h("td", { class: "mono value-cell", text: v });
    if (enc === "base64") cell.appendChild(h("span", { class: "pill b64", text: "base64" }));
    return cell;
  }

  function peek(ev) {
    if (ev) ev.preventDefault();
    var t = state.topic;
    if (!t) return;
    var p = Number($("peek-partition").value || 0);
    var limit = Math.min(1000, Math.max(1, Number($("peek-limit").value) || 20));
    var off = $("peek-offset").value;
    var part = (state.partitions || []).filter(function (x) { return x.partition === p; })[0];
    var offset = off === "" && part
      ? Math.max(part.logStartOffset, part.highWatermark - limit)
      : Number(off);
    var q = "/v1/topics/" + encodeURIComponent(t) + "/partitions/" + p + "/records?limit=" +
      limit + (isFinite(offset) ? "&offset=" + offset : "");
    $("peek-note").textContent = "loading...";
    api(q).then(function (res) {
      var body = $("records-body");
      clear(body);
      res.records.forEach(function (r) {
        var hdrs = h("td", { class: "mono value-cell" });
        r.headers.forEach(function (x, i) {
          if (i) hdrs.appendChild(document.createTextNode(", "));
          hdrs.appendChild(document.createTextNode(x.key + "=" + (x.value === null ? "null" : x.value)));
          if (x.valueEncoding === "base64") hdrs.appendChild(h("span", { class: "pill b64", text: "base64" }));
        });
        body.appendChild(h("tr", { "data-testid": "record-row", "data-offset": String(r.offset) },
          td(r.offset, "num"), td(new Date(r.timestamp).toISOString(), "mono"),
          cellValue(r.key, r.keyEncoding), cellValue(r.value, r.valueEncoding), hdrs));
      });
      $("records-table").hidden = false;
      $("peek-note").textContent = res.records.length + " record(s) from offset " + res.offset +
        " of " + t + "-" + p + (res.truncated ? " (byte limit reached)" : "") +
        "; next offset " + res.nextOffset;
    }).catch(function (e) { $("peek-note").textContent = "peek failed: " + e.message; });
  }

  // ---- groups ----------------------------------------------------------------------------
  function renderGroups(list) {
    var body = $("groups-body");
    clear(body);
    $("group-count").textContent = list.length + (list.length === 1 ? " group" : " groups");
    $("groups-empty").hidden = list.length > 0;
    list.forEach(function (g) {
      var tr = h("tr", {
        class: "click" + (state.group === g.groupId ? " selected" : ""),
        "data-testid": "group-row", "data-group": g.groupId,
      },
        h("td", { class: "mono", text: g.groupId }),
        h("td", {}, h("span", { class: "pill " + g.state, text: g.state })),
        td((g.protocolType || "") + (g.protocol ? " / " + g.protocol : ""), "mono"),
        td(g.members, "num"), td(num(g.lag), "num"));
      tr.cells[4].setAttribute("data-col", "lag");
      tr.addEventListener("click", function () { location.hash = "#/groups/" + encodeURIComponent(g.groupId); });
      body.appendChild(tr);
    });
  }

  function renderGroupDetail(g) {
    $("group-detail").hidden = false;
    $("group-name").textContent = g.groupId;
    var st = $("group-state");
    clear(st);
    st.appendChild(h("span", { class: "pill " + g.state, text: g.state }));
    var mb = $("members-body");
    clear(mb);
    if (g.members.length === 0) mb.appendChild(h("tr", {}, h("td", { colspan: "4", class: "muted", text: "no members" })));
    g.members.forEach(function (m) {
      var a = (m.assignments || []).map(function (x) { return x.topic + "[" + x.partitions.join(",") + "]"; }).join(" ");
      mb.appendChild(h("tr", {}, td(m.memberId, "mono"), td(m.clientId, "mono"), td(m.clientHost, "mono"), td(a || "-", "mono")));
    });
    var ob = $("offsets-body");
    clear(ob);
    if (g.offsets.length === 0) ob.appendChild(h("tr", {}, h("td", { colspan: "5", class: "muted", text: "no committed offsets" })));
    g.offsets.forEach(function (o) {
      ob.appendChild(h("tr", { "data-testid": "offset-row" }, td(o.topic, "mono"), td(o.partition, "num"),
        td(o.committedOffset == null ? "-" : num(o.committedOffset), "num"),
        td(o.highWatermark == null ? "-" : num(o.highWatermark), "num"),
        td(o.lag == null ? "-" : num(o.lag), "num")));
    });
  }

  // ---- polling -----------------------------------------------------------------------------
  function route() {
    var m = /^#\/(topics|groups)\/(.+)$/.exec(location.hash);
    state.topic = m && m[1] === "topics" ? decodeURIComponent(m[2]) : state.topic;
    state.group = m && m[1] === "groups" ? decodeURIComponent(m[2]) : state.group;
    refresh();
  }

  function setLive(ok) {
    if (ok) state.lastOk = Date.now();
    var fresh = Date.now() - state.lastOk < INTERVAL * 3;
    $("live").className = "dot" + (fresh ? "" : " stale");
    $("live-text").textContent = fresh ? "live" : "disconnected";
  }

  var busy = false, again = false;
  function refresh() {
    // One poll at a time; a refresh asked for meanwhile (a click) runs right after.
    if (busy) { again = true; return; }
    busy = true;
    again = false;
    // Stats first, so the topic rows show the rates of this very poll.
    var jobs = [
      Promise.all([api("/v1/stats"), api("/v1/topics")]).then(function (res) {
        updateStats(res[0]);
        renderTopics(res[1].topics);
      }),
    ];
    if (!state.groupsUnavailable) {
      jobs.push(api("/v1/groups").then(function (r) {
        renderGroups(r.groups);
        if (state.group) {
          return api("/v1/groups/" + encodeURIComponent(state.group)).then(renderGroupDetail)
            .catch(function (e) {
              if (e.status === 404) { state.group = null; $("group-detail").hidden = true; return; }
              throw e;
            });
        }
      }).catch(function (e) {
        if (e.status === 501) {
          state.groupsUnavailable = true;
          $("groups-note").hidden = false;
          $("groups-note").textContent = "Consumer groups are not served by this broker yet.";
          $("groups-table").hidden = true;
          return;
        }
        throw e;
      }));
    }
    Promise.all(jobs).then(function () {
      showError(null);
      setLive(true);
    }).catch(function (e) {
      setLive(false);
      if (e.status === 401) showError("Not signed in: open this page as /?token=<admin token>.");
      else showError("Could not reach the admin API: " + e.message);
    }).then(function () {
      busy = false;
      if (again) refresh();
    });
  }

  $("interval").textContent = String(INTERVAL / 1000);
  $("peek-form").addEventListener("submit", peek);
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", drawChart);
  api("/v1/cluster").then(function (c) {
    $("cluster-id").textContent = c.clusterId;
    var b = c.brokers[0];
    $("broker-addr").textContent = b ? b.host + ":" + b.port + " (id " + b.brokerId + ")" : "-";
    document.title = "Tributary console - " + c.clusterId;
  }).catch(function () {});
  route();
  setInterval(refresh, INTERVAL);
  setInterval(function () { setLive(false); }, 1000);
})();
</script>
</body>
</html>
`;
