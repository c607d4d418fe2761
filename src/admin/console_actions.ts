/**
 * The console's actions, each a call of the JSON API whose outcome is shown next to its
 * form: create and delete topics, set and reset topic configs, produce a record, search
 * records (with a pretty view of JSON values), reset a group's offsets (a dry-run preview
 * first; Execute sends exactly what was previewed) and delete a group. Destructive actions
 * ask for an inline confirmation. Shares the scope of console_script.ts; no backticks or "${".
 */
export const consoleActionsScript: string = String.raw`
  /** "key=value" lines as [key, value] pairs; blank lines are skipped. */
  function pairs(text, what) {
    var out = [];
    text.split("\n").forEach(function (line, i) {
      if (line.trim() === "") return;
      var eq = line.indexOf("=");
      if (eq <= 0) throw new Error(what + " line " + (i + 1) + " is not key=value");
      out.push([line.slice(0, eq).trim(), line.slice(eq + 1)]);
    });
    return out;
  }

  /** Milliseconds since the epoch from digits or a date-time Date.parse understands. */
  function parseTime(s) {
    s = s.trim();
    if (/^\d+$/.test(s)) return Number(s);
    var t = Date.parse(s);
    if (isNaN(t)) throw new Error("'" + s + "' is not a time (use 2026-01-01T00:00:00Z or ms)");
    return t;
  }

  function askConfirm(prefix) {
    $(prefix).hidden = true;
    $(prefix + "-bar").hidden = false;
  }
  function hideConfirm(prefix) {
    $(prefix).hidden = false;
    $(prefix + "-bar").hidden = true;
  }

  /** Drops the #/... part of the address without a hashchange (after a deletion). */
  function clearRoute() { history.replaceState(null, "", location.pathname + location.search); }

  // ---- JSON values -------------------------------------------------------------------------
  /** Marks a cell whose text is a JSON object or array: a click toggles a pretty view. */
  function jsonView(cell, text) {
    var t = text.trim();
    if (t[0] !== "{" && t[0] !== "[") return;
    var parsed;
    try { parsed = JSON.parse(t); } catch (e) { return; }
    cell.classList.add("json");
    cell.title = "JSON: click to pretty-print";
    cell.addEventListener("click", function () {
      var pre = cell.querySelector("pre.json"), raw = cell.querySelector(".raw");
      if (pre) { cell.removeChild(pre); raw.hidden = false; return; }
      raw.hidden = true;
      cell.appendChild(h("pre", { class: "json", text: JSON.stringify(parsed, null, 2) }));
    });
  }

  // ---- topics ------------------------------------------------------------------------------
  function createTopic(ev) {
    ev.preventDefault();
    var name = $("new-topic-name").value.trim();
    var configs = {};
    try {
      pairs($("new-topic-configs").value, "config").forEach(function (p) { configs[p[0]] = p[1]; });
    } catch (e) { note("create-topic-note", e.message, "bad"); return; }
    var body = { name: name, partitions: Number($("new-topic-partitions").value || 1), configs: configs };
    note("create-topic-note", "creating " + name + "...", "");
    api("/v1/topics", { method: "POST", body: body }).then(function (t) {
      note("create-topic-note", "created " + t.name + " with " + t.partitions.length +
        " partition(s)", "ok");
      $("new-topic-name").value = "";
      $("new-topic-configs").value = "";
      location.hash = "#/topics/" + enc(t.name);
    }).catch(function (e) { note("create-topic-note", "create failed: " + e.message, "bad"); });
  }

  function deleteTopic() {
    var name = state.topic;
    if (!name) return;
    api("/v1/topics/" + enc(name), { method: "DELETE" }).then(function () {
      state.topic = null;
      state.peekTopic = null;
      $("topic-detail").hidden = true;
      clearRoute();
      note("create-topic-note", "deleted topic " + name, "ok");
      refresh();
    }).catch(function (e) {
      hideConfirm("delete-topic");
      note("config-note", "delete failed: " + e.message, "bad");
    });
  }

  /** The topic's overrides, each with a reset button; rebuilt only when they change. */
  function renderConfigs(t) {
    var key = t.name + "\n" + JSON.stringify(t.configs);
    if (state.configsKey === key) return;
    state.configsKey = key;
    var dl = $("detail-configs");
    clear(dl);
    var keys = Object.keys(t.configs);
    if (keys.length === 0) {
      dl.appendChild(h("dt", { text: "configs" }));
      dl.appendChild(h("dd", { class: "muted", text: "broker defaults" }));
    }
    keys.forEach(function (k) {
      var reset = h("button", { type: "button", class: "link", "data-testid": "config-reset",
        "data-key": k, text: "reset", title: "back to the broker default" });
      reset.addEventListener("click", function () { alterConfig(k, null); });
      dl.appendChild(h("dt", { class: "mono", text: k }));
      dl.appendChild(h("dd", { class: "mono" }, h("span", { "data-config": k, text: String(t.configs[k]) }),
        " ", reset));
    });
  }

  /** Names of the topic's settings for the config field's suggestions. */
  function loadConfigNames(topic) {
    api("/v1/topics/" + enc(topic) + "/configs").then(function (r) {
      var list = $("config-names");
      clear(list);
      r.configs.filter(function (c) { return !c.readOnly; }).forEach(function (c) {
        list.appendChild(h("option", { value: c.name }));
      });
    }).catch(function () {});
  }

  /** PATCH one override; null resets it to the default. */
  function alterConfig(key, value) {
    var topic = state.topic;
    var configs = {};
    configs[key] = value;
    note("config-note", "saving...", "");
    api("/v1/topics/" + enc(topic) + "/configs", { method: "PATCH", body: { configs: configs } })
      .then(function () {
        note("config-note", value === null ? "reset " + key + " to its default" : "set " + key +
          "=" + value, "ok");
        refresh();
      }).catch(function (e) { note("config-note", "config change failed: " + e.message, "bad"); });
  }

  function setConfig(ev) {
    ev.preventDefault();
    var key = $("config-key").value.trim();
    if (!key) { note("config-note", "name a config", "bad"); return; }
    alterConfig(key, $("config-value").value);
  }

  // ---- records -----------------------------------------------------------------------------
  function produce(ev) {
    ev.preventDefault();
    var topic = state.topic;
    var body = { key: $("produce-key").value === "" ? null : $("produce-key").value };
    var value = $("produce-value").value;
    body.value = value === "" ? null : value;
    try {
      body.headers = pairs($("produce-headers").value, "header").map(function (p) {
        return { key: p[0], value: p[1] };
      });
    } catch (e) { note("produce-note", e.message, "bad"); return; }
    if ($("produce-partition").value !== "") body.partition = Number($("produce-partition").value);
    note("produce-note", "producing...", "");
    api("/v1/topics/" + enc(topic) + "/records", { method: "POST", body: body }).then(function (r) {
      note("produce-note", "produced to " + r.topic + "-" + r.partition + " at offset " +
        r.offset + (body.value === null ? " (null value)" : ""), "ok");
      refresh();
    }).catch(function (e) { note("produce-note", "produce failed: " + e.message, "bad"); });
  }

  var STOPPED = {
    end: "searched to the end", limit: "stopped at the match limit",
    maxRecords: "stopped at the scan limit", maxBytes: "stopped at the byte limit",
    timeoutMs: "stopped at the time limit",
  };

  function search(ev) {
    ev.preventDefault();
    var topic = state.topic;
    var q = [];
    function add(k, v) { if (v !== "" && v != null) q.push(k + "=" + enc(v)); }
    try {
      add("partition", $("search-partition").value);
      add("offset", $("search-offset").value);
      if ($("search-time").value.trim() !== "") add("timestamp", String(parseTime($("search-time").value)));
    } catch (e) { note("search-note", e.message, "bad"); return; }
    add("key", $("search-key").value);
    add("value", $("search-value").value);
    add("limit", $("search-limit").value);
    note("search-note", "searching...", "");
    api("/v1/topics/" + enc(topic) + "/records/search?" + q.join("&")).then(function (res) {
      var body = $("search-body");
      clear(body);
      res.records.forEach(function (r) {
        var tr = h("tr", { "data-testid": "search-row", "data-partition": String(r.partition),
          "data-offset": String(r.offset) }, td(r.partition, "num"));
        recordCells(r).forEach(function (c) { tr.appendChild(c); });
        body.appendChild(tr);
      });
      $("search-table").hidden = false;
      var next = res.stoppedBy === "end" ? "" : "; continue from " + res.next.map(function (n) {
        return n.partition + ":" + n.offset;
      }).join(", ");
      note("search-note", res.records.length + " match(es) in " + num(res.scannedRecords) +
        " record(s) scanned, " + (STOPPED[res.stoppedBy] || res.stoppedBy) + next, "ok");
    }).catch(function (e) { note("search-note", "search failed: " + e.message, "bad"); });
  }

  // ---- groups ------------------------------------------------------------------------------
  /** The topic choices of the reset form; rebuilt only when the topic list changes. */
  function fillResetTopics() {
    var names = state.topics.filter(function (t) { return !t.internal; })
      .map(function (t) { return t.name; });
    var key = names.join("\n");
    if (state.resetTopicsKey === key) return;
    state.resetTopicsKey = key;
    var select = $("reset-topic"), keep = select.value;
    clear(select);
    select.appendChild(h("option", { value: "", text: "(topics it committed to)" }));
    names.forEach(function (n) { select.appendChild(h("option", { value: n, text: n })); });
    select.value = keep;
    if (select.selectedIndex < 0) select.selectedIndex = 0;
  }

  function clearResetPlan() {
    state.resetPlan = null;
    $("reset-execute").disabled = true;
    $("reset-plan").hidden = true;
  }

  function resetBody() {
    var body = { to: $("reset-to").value };
    if ($("reset-topic").value !== "") body.topics = [$("reset-topic").value];
    if (body.to === "offset") {
      if ($("reset-offset").value === "") throw new Error("to offset needs an offset");
      body.offset = Number($("reset-offset").value);
    }
    if (body.to === "timestamp") body.timestamp = parseTime($("reset-time").value);
    return body;
  }

  function resetOffsets(dryRun) {
    var group = state.group;
    var body;
    if (dryRun) {
      try { body = resetBody(); } catch (e) { note("reset-note", e.message, "bad"); return; }
    } else {
      if (!state.resetPlan || state.resetPlan.group !== group) return;
      body = state.resetPlan.body;
    }
    note("reset-note", dryRun ? "previewing..." : "resetting...", "");
    api("/v1/groups/" + enc(group) + "/offsets" + (dryRun ? "?dryRun=true" : ""),
      { method: "POST", body: body }).then(function (r) {
      var tb = $("reset-plan-body");
      clear(tb);
      r.offsets.forEach(function (o) {
        tb.appendChild(h("tr", { "data-testid": "reset-plan-row" }, td(o.topic, "mono"),
          td(o.partition, "num"), td(o.previousOffset == null ? "-" : num(o.previousOffset), "num"),
          td(num(o.committedOffset), "num")));
      });
      $("reset-plan").hidden = false;
      if (dryRun) {
        state.resetPlan = { group: group, body: body };
        $("reset-execute").disabled = false;
        note("reset-note", "preview of " + r.offsets.length + " partition(s): nothing changed yet",
          "");
      } else {
        state.resetPlan = null;
        $("reset-execute").disabled = true;
        note("reset-note", "reset " + r.offsets.length + " partition(s)", "ok");
        refresh();
      }
    }).catch(function (e) {
      $("reset-execute").disabled = true;
      note("reset-note", (dryRun ? "preview" : "reset") + " failed: " + e.message, "bad");
    });
  }

  function deleteGroup() {
    var group = state.group;
    if (!group) return;
    // From now on no poll asks for the group's detail (it would be a 404 once deleted).
    state.group = null;
    afterPoll(function () {
      api("/v1/groups/" + enc(group), { method: "DELETE" }).then(function () {
        hideGroupDetail();
        clearRoute();
        $("groups-note").hidden = false;
        $("groups-note").textContent = "deleted group " + group;
        refresh();
      }).catch(function (e) {
        state.group = group;
        hideConfirm("delete-group");
        note("delete-group-note", "delete failed: " + e.message, "bad");
      });
    });
  }

  function bindActions() {
    $("create-topic-form").addEventListener("submit", createTopic);
    $("delete-topic").addEventListener("click", function () { askConfirm("delete-topic"); });
    $("delete-topic-cancel").addEventListener("click", function () { hideConfirm("delete-topic"); });
    $("delete-topic-confirm").addEventListener("click", deleteTopic);
    $("config-form").addEventListener("submit", setConfig);
    $("produce-form").addEventListener("submit", produce);
    $("search-form").addEventListener("submit", search);
    $("reset-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      resetOffsets(true);
    });
    $("reset-form").addEventListener("input", clearResetPlan);
    $("reset-execute").addEventListener("click", function () { resetOffsets(false); });
    $("delete-group").addEventListener("click", function () { askConfirm("delete-group"); });
    $("delete-group-cancel").addEventListener("click", function () { hideConfirm("delete-group"); });
    $("delete-group-confirm").addEventListener("click", deleteGroup);
  }
`;
