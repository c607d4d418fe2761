/**
 * The console's charts, drawn without libraries: live throughput on a canvas, and consumer
 * group lag over time as inline SVG (a chart in the group panel, a sparkline per group row).
 * Lag history is kept in the page, bounded: HISTORY samples per group (one per poll), for
 * at most MAX_LAG_GROUPS groups; groups that disappear are forgotten. Shares the scope of
 * console_script.ts; no backticks or "${".
 */
export const consoleChartsScript: string = String.raw`
  var MAX_LAG_GROUPS = 50;

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

  /** Appends this poll's total lag of every listed group to its bounded history. */
  function recordLag(groups) {
    var now = Date.now(), next = {};
    groups.slice(0, MAX_LAG_GROUPS).forEach(function (g) {
      var hist = state.lagHistory[g.groupId] || [];
      hist.push({ t: now, lag: g.lag });
      if (hist.length > HISTORY) hist.shift();
      next[g.groupId] = hist;
    });
    state.lagHistory = next;
  }

  function svg(tag, attrs) {
    // The SVG namespace, as the page's inline <svg> has it.
    var el = document.createElementNS($("lag-chart").namespaceURI, tag);
    for (var k in attrs) {
      if (k === "text") el.textContent = attrs[k];
      else el.setAttribute(k, String(attrs[k]));
    }
    return el;
  }

  /** Points of a polyline for hist in a w x hgt box, newest at the right edge. */
  function points(hist, w, hgt, pad) {
    var max = 1;
    hist.forEach(function (p) { max = Math.max(max, p.lag); });
    var step = w / (HISTORY - 1);
    return {
      max: max,
      list: hist.map(function (p, i) {
        var x = w - (hist.length - 1 - i) * step;
        var y = hgt - pad - (p.lag / max) * (hgt - 2 * pad);
        return x.toFixed(1) + "," + y.toFixed(1);
      }),
    };
  }

  function sparkline(hist) {
    var el = svg("svg", { class: "spark", viewBox: "0 0 90 20", "data-testid": "lag-spark" });
    if (hist.length > 0) {
      el.appendChild(svg("polyline", { points: points(hist, 90, 20, 2).list.join(" ") }));
    }
    return el;
  }

  /** The selected group's lag over time, with its scale and the latest value. */
  function drawLagChart(groupId) {
    var el = $("lag-chart");
    while (el.firstChild) el.removeChild(el.firstChild);
    var hist = state.lagHistory[groupId] || [];
    var w = Math.max(200, Math.round(el.clientWidth || 600)), hgt = 120, pad = 14;
    el.setAttribute("viewBox", "0 0 " + w + " " + hgt);
    el.setAttribute("data-values", hist.map(function (p) { return p.lag; }).join(","));
    for (var g = 0; g <= 4; g++) {
      var y = pad + (hgt - 2 * pad) * g / 4;
      el.appendChild(svg("line", { class: "grid", x1: 0, x2: w, y1: y, y2: y }));
    }
    var label = $("lag-chart-label");
    if (hist.length === 0) {
      label.textContent = "";
      return;
    }
    var pts = points(hist, w - 60, hgt, pad);
    var first = pts.list[0].split(",")[0];
    var area = [first + "," + (hgt - pad)].concat(pts.list, [(w - 60) + "," + (hgt - pad)]);
    el.appendChild(svg("polygon", { class: "area", points: area.join(" ") }));
    el.appendChild(svg("polyline", { class: "line", points: pts.list.join(" ") }));
    var last = hist[hist.length - 1];
    var lastY = Number(pts.list[pts.list.length - 1].split(",")[1]);
    el.appendChild(svg("text", { x: w - 54, y: Math.max(11, lastY + 4), id: "lag-chart-last",
      text: num(last.lag) }));
    el.appendChild(svg("text", { x: 2, y: pad - 3, text: "max " + num(pts.max) }));
    var span = Math.round((last.t - hist[0].t) / 1000);
    label.textContent = "last " + duration(span * 1000) + ", " + hist.length + " sample(s)";
  }
`;
