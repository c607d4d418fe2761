/**
 * The web console: one self-contained HTML page (inline CSS and JS, nothing loaded from
 * anywhere else) over the JSON API. It shows the cluster (brokers, replication health), live throughput, topics and
 * partitions, records and consumer groups with lag over time, and it acts: create and delete
 * topics, alter their configs, produce a record, search records, reset a group's offsets
 * (preview, then execute) and delete groups. No build step: the page is assembled here from
 * its stylesheet (console_style.ts) and script parts (console_script.ts, console_charts.ts,
 * console_actions.ts), which run inside one function scope.
 *
 * The parts are String.raw literals, so the script must not use backticks or "${".
 * Everything shown is built with textContent (never innerHTML), so topic names, keys and
 * values cannot inject markup.
 */
import { consoleActionsScript } from "./console_actions.ts";
import { consoleChartsScript } from "./console_charts.ts";
import { consoleCoreScript } from "./console_script.ts";
import { consoleStyle } from "./console_style.ts";

const body = String.raw`<header>
  <h1>Tributary <span>console</span></h1>
  <div class="meta">
    <div><span id="live" class="dot loading"></span><span id="live-text">loading</span></div>
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
      <div class="kpi" title="Failed: answers with an error code other than the protocol's
routine ones (MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS, NOT_COORDINATOR, ...)">
        <div class="label">Requests (failed)</div>
        <div class="value" id="total-requests">-</div></div>
    </div>
    <canvas id="chart" width="1200" height="90"></canvas>
    <div class="legend"><span><i style="background:var(--in)"></i>bytes in/s</span>
      <span><i style="background:var(--out)"></i>bytes out/s</span>
      <span id="chart-max"></span></div>
  </section>

  <section class="card" id="cluster">
    <h2>Brokers <small id="broker-count"></small></h2>
    <div class="kpis">
      <div class="kpi"><div class="label">Partitions</div>
        <div class="value" id="repl-partitions">-</div></div>
      <div class="kpi" title="Fewer in-sync replicas than assigned replicas">
        <div class="label">Under-replicated</div><div class="value" id="repl-under">-</div></div>
      <div class="kpi" title="Fewer in-sync replicas than min.insync.replicas: acks=all fails">
        <div class="label">Under min ISR</div><div class="value" id="repl-under-min">-</div></div>
      <div class="kpi" title="No live leader"><div class="label">Offline</div>
        <div class="value" id="repl-offline">-</div></div>
    </div>
    <table id="brokers-table">
      <thead><tr><th class="num">Broker</th><th>Address</th><th>Rack</th><th>Role</th>
        <th class="num">Leaders</th><th class="num">Replicas</th><th>Status</th></tr></thead>
      <tbody id="brokers-body"></tbody>
    </table>
  </section>

  <section class="card">
    <h2>Topics <small id="topic-count"></small></h2>
    <table id="topics-table">
      <thead><tr><th>Topic</th><th class="num">Partitions</th><th class="num">Messages</th>
        <th class="num">Size</th><th class="num">In B/s</th><th class="num">In rec/s</th>
        <th class="num">Out B/s</th></tr></thead>
      <tbody id="topics-body">
        <tr><td colspan="7" class="loading" id="topics-loading">Loading topics...</td></tr>
      </tbody>
    </table>
    <div id="topics-empty" class="empty" hidden>No topics yet.</div>
    <form class="act" id="create-topic-form">
      <label>New topic <input id="new-topic-name" class="wide" placeholder="name" required></label>
      <label>Partitions <input id="new-topic-partitions" type="number" min="1" value="1"></label>
      <label>Configs (key=value, one a line)
        <textarea id="new-topic-configs" placeholder="retention.ms=86400000"></textarea></label>
      <button type="submit" id="create-topic">Create topic</button>
      <span class="note" id="create-topic-note"></span>
    </form>
  </section>

  <section class="card" id="topic-detail" hidden>
    <h2>Topic <span id="detail-name" class="mono"></span>
      <small id="detail-id" class="mono"></small>
      <span class="actions">
        <button type="button" class="danger" id="delete-topic">Delete topic</button>
        <span class="confirm" id="delete-topic-bar" hidden>Delete it and all its records?
          <button type="button" class="danger" id="delete-topic-confirm">Delete</button>
          <button type="button" class="secondary" id="delete-topic-cancel">Cancel</button></span>
      </span></h2>
    <dl class="kv" id="detail-configs"></dl>
    <form class="act" id="config-form">
      <label>Config <input id="config-key" class="wide" list="config-names"
        placeholder="retention.ms"></label>
      <datalist id="config-names"></datalist>
      <label>Value <input id="config-value" class="wide"></label>
      <button type="submit" id="config-set">Set config</button>
      <span class="note" id="config-note"></span>
    </form>
    <table id="partitions-table">
      <thead><tr><th class="num">Partition</th><th class="num">Leader</th>
        <th class="num">Log start</th><th class="num">High watermark</th>
        <th class="num">Messages</th><th class="num">Local</th><th class="num">Remote</th>
        <th class="num">Epoch</th><th>Replicas</th><th>ISR</th><th>Status</th></tr>
      </thead>
      <tbody id="partitions-body"></tbody>
    </table>

    <h3>Produce a record</h3>
    <form class="act" id="produce-form">
      <label>Partition <select id="produce-partition"></select></label>
      <label>Key <input id="produce-key" class="wide" placeholder="(null)"></label>
      <label>Value <textarea id="produce-value"></textarea></label>
      <label>Headers (key=value, one a line) <textarea id="produce-headers"></textarea></label>
      <button type="submit" id="produce-button">Produce</button>
      <span class="note" id="produce-note"></span>
    </form>

    <h3>Peek records</h3>
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

    <h3>Search records</h3>
    <form class="act" id="search-form">
      <label>Partition <select id="search-partition"></select></label>
      <label>From offset <input id="search-offset" type="number" min="0"
        placeholder="log start"></label>
      <label>From time <input id="search-time" class="wide"
        placeholder="2026-01-01T00:00:00Z or ms"></label>
      <label>Key contains <input id="search-key"></label>
      <label>Value contains <input id="search-value"></label>
      <label>Max matches <input id="search-limit" type="number" min="1" max="1000"
        value="100"></label>
      <button type="submit" id="search-button">Search</button>
      <span class="note" id="search-note"></span>
    </form>
    <table id="search-table" hidden>
      <thead><tr><th class="num">Partition</th><th class="num">Offset</th><th>Timestamp</th>
        <th>Key</th><th>Value</th><th>Headers</th></tr></thead>
      <tbody id="search-body"></tbody>
    </table>
  </section>

  <section class="card">
    <h2>Consumer groups <small id="group-count"></small></h2>
    <div id="groups-note" class="note" hidden></div>
    <table id="groups-table">
      <thead><tr><th>Group</th><th>State</th><th>Protocol</th><th class="num">Members</th>
        <th class="num">Lag</th><th>Lag trend</th></tr></thead>
      <tbody id="groups-body">
        <tr><td colspan="6" class="loading">Loading consumer groups...</td></tr>
      </tbody>
    </table>
    <div id="groups-empty" class="empty" hidden>No consumer groups.</div>
  </section>

  <section class="card" id="group-detail" hidden>
    <h2>Group <span id="group-name" class="mono"></span> <span id="group-state"></span>
      <span class="actions">
        <button type="button" class="danger" id="delete-group">Delete group</button>
        <span class="confirm" id="delete-group-bar" hidden>Delete the group and its offsets?
          <button type="button" class="danger" id="delete-group-confirm">Delete</button>
          <button type="button" class="secondary" id="delete-group-cancel">Cancel</button></span>
        <span class="note" id="delete-group-note"></span>
      </span></h2>
    <h3>Lag over time <small class="muted" id="lag-chart-label"></small></h3>
    <svg id="lag-chart" class="lag"></svg>
    <div class="grid2">
      <div>
        <h3>Members</h3>
        <table><thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Assignment</th></tr>
          </thead><tbody id="members-body"></tbody></table>
      </div>
      <div>
        <h3>Committed offsets</h3>
        <table><thead><tr><th>Topic</th><th class="num">Partition</th>
          <th class="num">Committed</th><th class="num">High watermark</th>
          <th class="num">Lag</th></tr></thead><tbody id="offsets-body"></tbody></table>
      </div>
    </div>
    <h3>Reset offsets <small class="muted">(the group must be Empty)</small></h3>
    <form class="act" id="reset-form">
      <label>Topic <select id="reset-topic"></select></label>
      <label>To <select id="reset-to"><option value="earliest">earliest</option>
        <option value="latest">latest</option><option value="timestamp">timestamp</option>
        <option value="offset">offset</option></select></label>
      <label>Offset <input id="reset-offset" type="number" min="0"></label>
      <label>Time <input id="reset-time" class="wide"
        placeholder="2026-01-01T00:00:00Z or ms"></label>
      <button type="submit" id="reset-preview">Preview</button>
      <button type="button" id="reset-execute" disabled>Execute</button>
      <span class="note" id="reset-note"></span>
    </form>
    <table id="reset-plan" hidden>
      <thead><tr><th>Topic</th><th class="num">Partition</th><th class="num">Current</th>
        <th class="num">New</th></tr></thead>
      <tbody id="reset-plan-body"></tbody>
    </table>
  </section>
</main>`;

export const consoleHtml: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tributary console</title>
<link rel="icon" href="data:,">
<style>
${consoleStyle}</style>
</head>
<body>
${body}
<script>
"use strict";
(function () {
${consoleCoreScript}
${consoleChartsScript}
${consoleActionsScript}
  start();
})();
</script>
</body>
</html>
`;
