/**
 * The console's core script: helpers, the JSON API client, polling, and the views of
 * throughput, topics, partitions, peeked records and consumer groups. It runs in the same
 * function scope as console_charts.ts and console_actions.ts (see console.ts), so their
 * functions call each other by name. No backticks or "${" (the parts are String.raw).
 */
export const consoleCoreScript: string = String.raw`
  var params = new URLSearchParams(location.search);
  var INTERVAL = Math.max(250, Number(params.get("refresh")) || 2000);
  var HISTORY = 90;
  var state = {
    topic: null, group: null, prev: null, history: [], topicRates: {}, lastOk: 0,
    everFailed: false, groupsUnavailable: false, peekTopic: null, topics: [],
    lagHistory: {}, groupDetail: null,
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
  function enc(s) { return encodeURIComponent(s); }

  /** GET, or opts.method with opts.body as JSON; rejects with the API's error message. */
  function api(path, opts) {
    opts = opts || {};
    var init = {
      method: opts.method || "GET",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    };
    if (opts.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    return fetch(path, init).then(function (r) {
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

  /** A status line next to a form: kind "ok", "bad" or "" (in progress). */
  function note(id, text, kind) {
    var el = $(id);
    el.textContent = text;
    el.className = "note" + (kind ? " " + kind : "");
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

  // ---- topics ------------------------------------------------------------------------
  function messages(p) { return p.highWatermark - p.logStartOffset; }

  function renderTopics(list) {
    var body = $("topics-body");
    clear(body);
    state.topics = list;
    $("topic-count").textContent = list.length + (list.length === 1 ? " topic" : " topics");
    $("topics-empty").hidden = list.length > 0;
    list.forEach(function (t) {
      var msgs = 0, size = 0;
      var under = 0, offline = 0;
      t.partitions.forEach(function (p) {
        if (p.offline) offline++;
        else if (p.underReplicated) under++;
        // A partition held on other brokers only (cluster) has no local offsets or size.
        if (p.local === false) return;
        msgs += messages(p);
        size += p.sizeBytes;
      });
      var r = state.topicRates[t.name];
      var tr = h("tr", {
        class: "click" + (state.topic === t.name ? " selected" : ""),
        "data-testid": "topic-row",
        "data-topic": t.name,
      },
        h("td", { class: "mono" }, h("span", { "data-col": "name", text: t.name }),
          t.internal ? h("span", { class: "pill internal", text: "internal" }) : null,
          offline ? h("span", { class: "pill offline", "data-col": "offline",
            text: offline + " offline" }) : null,
          under ? h("span", { class: "pill under", "data-col": "under-replicated",
            text: under + " under-replicated" }) : null),
        td(t.partitions.length, "num"),
        td(num(msgs), "num"),
        td(bytes(size), "num"),
        td(r ? bytes(r.bytesIn) : "-", "num"),
        td(r ? rate(r.recordsIn) : "-", "num"),
        td(r ? bytes(r.bytesOut) : "-", "num"));
      tr.cells[1].setAttribute("data-col", "partitions");
      tr.cells[2].setAttribute("data-col", "messages");
      tr.addEventListener("click", function () { location.hash = "#/topics/" + enc(t.name); });
      body.appendChild(tr);
    });
    var sel = state.topic && list.filter(function (t) { return t.name === state.topic; })[0];
    if (sel) renderTopicDetail(sel);
    else $("topic-detail").hidden = true;
    fillResetTopics();
  }

  /** Options of a partition select, with a first option of value "" when first is given. */
  function fillPartitions(select, partitions, first, reset) {
    var want = (first ? 1 : 0) + partitions.length;
    if (!reset && select.options.length === want) return;
    var keep = select.value;
    clear(select);
    if (first) select.appendChild(h("option", { value: "", text: first }));
    partitions.forEach(function (p) {
      select.appendChild(h("option", { value: String(p.partition), text: String(p.partition) }));
    });
    if (!reset) select.value = keep;
    if (select.selectedIndex < 0) select.selectedIndex = 0;
  }

  /** The brokers card: every broker with its role, leaders and replicas; replication health. */
  function renderCluster(c) {
    var body = $("brokers-body");
    clear(body);
    c.brokers.forEach(function (b) {
      var tr = h("tr", { "data-testid": "broker-row", "data-broker": String(b.brokerId) },
        td(b.brokerId, "num"), td(b.live ? b.host + ":" + b.port : "-", "mono"),
        td(b.rack === null ? "-" : b.rack),
        td(b.controller ? "controller" : "broker"),
        td(b.leaderCount, "num"), td(b.replicaCount, "num"),
        h("td", {}, h("span", { class: "pill " + (b.live ? "insync" : "offline"),
          text: b.live ? "live" : "down" })));
      tr.cells[4].setAttribute("data-col", "leaders");
      tr.cells[5].setAttribute("data-col", "replicas");
      tr.cells[6].setAttribute("data-col", "status");
      body.appendChild(tr);
    });
    var r = c.replication;
    $("broker-count").textContent = c.brokers.length + (c.brokers.length === 1 ? " broker" : " brokers");
    $("repl-under").textContent = String(r.underReplicatedPartitions);
    $("repl-under-min").textContent = String(r.underMinIsrPartitions);
    $("repl-offline").textContent = String(r.offlinePartitions);
    $("repl-partitions").textContent = String(r.partitions);
  }

  function renderTopicDetail(t) {
    var fresh = state.peekTopic !== t.name;
    $("topic-detail").hidden = false;
    $("detail-name").textContent = t.name;
    $("detail-id").textContent = "id " + t.topicId;
    renderConfigs(t);
    var body = $("partitions-body");
    clear(body);
    t.partitions.forEach(function (p) {
      var here = p.local !== false;
      var status = p.offline ? "offline" : p.underReplicated ? "under-replicated" : "in sync";
      var tr = h("tr", {
        "data-testid": "partition-row",
        "data-partition": String(p.partition),
        "data-status": status,
      },
        td(p.partition, "num"), td(p.leader < 0 ? "none" : p.leader, "num"),
        td(here ? num(p.logStartOffset) : "-", "num"),
        td(here ? num(p.highWatermark) : "-", "num"), td(here ? num(messages(p)) : "-", "num"),
        td(here ? bytes(p.localBytes) : "-", "num"),
        td(p.remoteBytes > 0 ? bytes(p.remoteBytes) : "-", "num"),
        td(p.leaderEpoch, "num"), td((p.replicas || []).join(", "), "mono"),
        td((p.isr || []).join(", "), "mono"),
        h("td", {}, h("span", {
          class: "pill " + (p.offline ? "offline" : p.underReplicated ? "under" : "insync"),
          text: status,
        })));
      tr.cells[3].setAttribute("data-col", "highWatermark");
      tr.cells[2].setAttribute("data-col", "logStartOffset");
      tr.cells[1].setAttribute("data-col", "leader");
      tr.cells[7].setAttribute("data-col", "leaderEpoch");
      tr.cells[8].setAttribute("data-col", "replicas");
      tr.cells[9].setAttribute("data-col", "isr");
      tr.cells[10].setAttribute("data-col", "status");
      body.appendChild(tr);
    });
    fillPartitions($("peek-partition"), t.partitions, null, fresh);
    fillPartitions($("produce-partition"), t.partitions, "auto (by key)", fresh);
    fillPartitions($("search-partition"), t.partitions, "all", fresh);
    if (fresh) {
      $("records-table").hidden = true;
      $("search-table").hidden = true;
      ["peek-note", "search-note", "produce-note", "config-note"].forEach(function (id) {
        note(id, "", "");
      });
      hideConfirm("delete-topic");
      state.peekTopic = t.name;
      loadConfigNames(t.name);
    }
    state.partitions = t.partitions;
  }

  /** A key, value or header value cell: null, text (JSON gets a pretty view), or base64. */
  function cellValue(v, encoding) {
    if (v === null) return h("td", { class: "mono muted", text: "null" });
    var cell = h("td", { class: "mono value-cell" }, h("span", { class: "raw", text: v }));
    if (encoding === "base64") cell.appendChild(h("span", { class: "pill b64", text: "base64" }));
    else jsonView(cell, v);
    return cell;
  }

  function headersCell(headers) {
    var cell = h("td", { class: "mono value-cell" });
    headers.forEach(function (x, i) {
      if (i) cell.appendChild(document.createTextNode(", "));
      cell.appendChild(document.createTextNode(x.key + "=" + (x.value === null ? "null" : x.value)));
      if (x.valueEncoding === "base64") cell.appendChild(h("span", { class: "pill b64", text: "base64" }));
    });
    return cell;
  }

  function recordCells(r) {
    return [td(r.offset, "num"), td(new Date(r.timestamp).toISOString(), "mono"),
      cellValue(r.key, r.keyEncoding), cellValue(r.value, r.valueEncoding), headersCell(r.headers)];
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
    var q = "/v1/topics/" + enc(t) + "/partitions/" + p + "/records?limit=" +
      limit + (isFinite(offset) ? "&offset=" + offset : "");
    $("peek-note").textContent = "loading...";
    api(q).then(function (res) {
      var body = $("records-body");
      clear(body);
      res.records.forEach(function (r) {
        var tr = h("tr", { "data-testid": "record-row", "data-offset": String(r.offset) });
        recordCells(r).forEach(function (c) { tr.appendChild(c); });
        body.appendChild(tr);
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
        td(g.members, "num"), td(num(g.lag), "num"),
        h("td", {}, sparkline(state.lagHistory[g.groupId] || [])));
      tr.cells[4].setAttribute("data-col", "lag");
      tr.addEventListener("click", function () { location.hash = "#/groups/" + enc(g.groupId); });
      body.appendChild(tr);
    });
  }

  function renderGroupDetail(g) {
    var fresh = !state.groupDetail || state.groupDetail.groupId !== g.groupId;
    state.groupDetail = g;
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
    if (fresh) {
      hideConfirm("delete-group");
      note("delete-group-note", "", "");
      clearResetPlan();
      note("reset-note", "", "");
    }
    drawLagChart(g.groupId);
  }

  function hideGroupDetail() {
    state.group = null;
    state.groupDetail = null;
    $("group-detail").hidden = true;
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
    if (!state.lastOk && !state.everFailed) {
      $("live").className = "dot loading";
      $("live-text").textContent = "loading";
      return;
    }
    var fresh = Date.now() - state.lastOk < INTERVAL * 3;
    $("live").className = "dot" + (fresh ? "" : " stale");
    $("live-text").textContent = fresh ? "live" : "disconnected";
  }

  var busy = false, again = false, pollWaiters = [];
  /** Runs fn once no poll is in flight (so no answer of an earlier poll lands after it). */
  function afterPoll(fn) {
    if (busy) pollWaiters.push(fn);
    else fn();
  }
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
      api("/v1/cluster").then(renderCluster),
    ];
    if (!state.groupsUnavailable) {
      jobs.push(api("/v1/groups").then(function (r) {
        recordLag(r.groups);
        renderGroups(r.groups);
        var known = state.group && r.groups.some(function (g) { return g.groupId === state.group; });
        if (state.group && !known) { hideGroupDetail(); return; }
        var want = state.group;
        if (want) {
          return api("/v1/groups/" + enc(want)).then(function (g) {
            // Not if another group was chosen (or this one is being deleted) meanwhile.
            if (state.group === want) renderGroupDetail(g);
          })
            .catch(function (e) {
              if (e.status === 404) { hideGroupDetail(); return; }
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
      state.everFailed = true;
      setLive(false);
      if (e.status === 401) showError("Not signed in: open this page as /?token=<admin token>.");
      else showError("Could not reach the admin API: " + e.message);
    }).then(function () {
      busy = false;
      var waiting = pollWaiters;
      pollWaiters = [];
      waiting.forEach(function (fn) { fn(); });
      if (again) refresh();
    });
  }

  function start() {
    $("interval").textContent = String(INTERVAL / 1000);
    $("peek-form").addEventListener("submit", peek);
    bindActions();
    window.addEventListener("hashchange", route);
    window.addEventListener("resize", function () {
      drawChart();
      if (state.group) drawLagChart(state.group);
    });
    api("/v1/cluster").then(function (c) {
      $("cluster-id").textContent = c.clusterId;
      var b = c.brokers.filter(function (x) { return x.live; })[0];
      $("broker-addr").textContent = b ? b.host + ":" + b.port + " (id " + b.brokerId + ")" : "-";
      document.title = "Tributary console - " + c.clusterId;
      renderCluster(c);
    }).catch(function () {});
    route();
    setInterval(refresh, INTERVAL);
    setInterval(function () { setLive(false); }, 1000);
  }
`;
