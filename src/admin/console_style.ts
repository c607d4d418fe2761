/**
 * The console's stylesheet (inline in the page; see console.ts).
 */
export const consoleStyle: string = String.raw`:root {
  --bg: #f4f6f9; --card: #fff; --ink: #1d2733; --muted: #667385; --line: #e1e6ed;
  --accent: #1f6feb; --accent-soft: #e8f0fe; --ok: #1a7f37; --warn: #b35900; --bad: #cf222e;
  --in: #1f6feb; --out: #8250df;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
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
.dot.loading { background: #8a96a8; }
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
.pill.insync { background: #dafbe1; color: var(--ok); }
.pill.under { background: #fff1e5; color: var(--warn); margin-left: 6px; }
.pill.offline { background: #ffebe9; color: var(--bad); margin-left: 6px; }
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
button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: default; filter: none; }
textarea { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 5px 8px;
  border: 1px solid var(--line); border-radius: 5px; width: 260px; height: 58px; resize: vertical; }
form.act { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin: 10px 0; }
form.act label { display: grid; gap: 2px; font-size: 12px; color: var(--muted); }
form.act input.wide { width: 220px; }
.actions { display: flex; gap: 8px; margin-left: auto; align-items: center; font-size: 13px;
  font-weight: 400; }
.actions button { font-size: 13px; font-weight: 500; padding: 3px 10px; }
.confirm { display: inline-flex; gap: 6px; align-items: center; font-size: 13px; }
.note.ok { color: var(--ok); } .note.bad { color: var(--bad); }
h3 { font-size: 13px; margin: 16px 0 4px; font-weight: 600; color: var(--ink); }
.loading { color: var(--muted); padding: 12px 2px; font-style: italic; }
button.link { background: none; border: none; color: var(--accent); padding: 0 4px;
  font-size: 12px; text-decoration: underline; }
pre.json { margin: 4px 0 0; padding: 6px 8px; background: #f6f8fa; border-radius: 5px;
  white-space: pre-wrap; }
svg.lag { width: 100%; height: 120px; display: block; }
svg.lag .grid { stroke: #e1e6ed; stroke-width: 1; }
svg.lag .line { fill: none; stroke: var(--warn); stroke-width: 2; }
svg.lag .area { fill: #fff1e5; }
svg.lag text { font-size: 11px; fill: var(--muted); }
.spark { width: 90px; height: 20px; vertical-align: middle; }
td.json { cursor: pointer; }
td.json > .raw::after { content: " {json}"; color: var(--accent); font-size: 11px; }
.spark polyline { fill: none; stroke: var(--warn); stroke-width: 1.5; }
`;
