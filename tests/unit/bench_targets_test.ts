import assert from "node:assert/strict";
import { formatTargets, targetRows } from "../../bench/lib/targets_summary.ts";
import { BEGIN, END, replaceTargets } from "../../bench/lib/readme_targets.ts";

const row = (
  target: string,
  size: number,
  acks: string | undefined,
  rps: number,
  kind = "produce",
  idempotent?: boolean,
) => ({
  scenario: `${kind} ${size}`,
  target,
  kind,
  size,
  acks,
  idempotent,
  recordsPerSec: rps,
  vsMock: null,
  check: "ok",
});

Deno.test("bench targets: ratios against the same run's mock, verdicts at the threshold", () => {
  const rows = targetRows({
    e2e: {
      rows: [
        row("tributary", 100, "1", 1000),
        row("mock", 100, "1", 1000),
        row("tributary", 1024, "1", 300),
        row("mock", 1024, "1", 400),
        row("tributary", 1024, undefined, 120, "window"),
        row("mock", 1024, undefined, 100, "window"),
      ],
    },
    fetchReplay: [{ workers: 1, median: 0.99 }, { workers: 2, median: 1.01 }],
    latency: {
      results: {
        "latency: tributary 1 worker, loaded": [{ p99: 0.8 }, { p99: 3 }, { p99: 0.9 }],
        "fairness: tributary 2 workers": [{ produced: 100, consumed: 79 }],
      },
    },
  });
  const by = (t: string) => {
    const r = rows.find((x) => x.target.startsWith(t));
    assert.ok(r, t);
    return r;
  };
  assert.equal(by("produce 100 B acks=1").verdict, "met");
  assert.equal(by("produce 100 B acks=1").ratio, 1);
  assert.equal(by("produce 1 KiB acks=1").verdict, "MISSED");
  assert.equal(by("produce 1 KiB acks=1").ratio, 0.75);
  assert.equal(by("produce 1 KiB acks=all").verdict, "not measured");
  assert.equal(by("consume 1 KiB").ratio, 1.2);
  assert.equal(by("empty Fetch cost per partition ≤ 1 µs, 1 worker").verdict, "met");
  assert.equal(by("empty Fetch cost per partition ≤ 1 µs, 2 worker").verdict, "MISSED");
  // The median of three runs, not the best one.
  assert.equal(by("produce→consume p99 ≤ 1 ms at 1,000 rec/s, loaded, 1 worker").verdict, "met");
  assert.equal(
    by("produce→consume p99 ≤ 1 ms at 1,000 rec/s, loaded, 2 workers").verdict,
    "not measured",
  );
  assert.equal(by("8 producers + 8 consumers: consumers read ≥ 80%, 2 workers").verdict, "MISSED");
  assert.equal(by("100,000 partitions: start-up").verdict, "not measured");
  const text = formatTargets(rows).join("\n");
  assert.match(
    text,
    /\| produce 1 KiB acks=1 ≥ 1\.0× the mock \| 300 rec\/s \| mock 400 rec\/s \| 0\.75× \| MISSED \|/,
  );
});

Deno.test("bench targets: a failed run gives no ratio and does not count as met", () => {
  const rows = targetRows({
    e2e: {
      rows: [{ ...row("tributary", 100, "1", 5000), check: "FAIL" }, row("mock", 100, "1", 1000)],
    },
  });
  const r = rows.find((x) => x.target.startsWith("produce 100 B acks=1"));
  assert.equal(r?.ratio, null);
  assert.equal(r?.verdict, "MISSED");
});

Deno.test("bench targets: README block replaced between its markers, the rest kept", () => {
  const readme = `# x\n\nbefore\n${BEGIN}\nold table\n${END}\nafter\n`;
  const out = replaceTargets(readme, "| t |\n| --- |\n", {
    date: "2026-12-03",
    cores: 2,
    cpu: "Some CPU",
  });
  assert.ok(out.startsWith("# x\n\nbefore\n"));
  assert.ok(out.endsWith(`${END}\nafter\n`));
  assert.ok(!out.includes("old table"));
  assert.ok(out.includes("2026-12-03, on 2 cores (Some CPU)"));
  assert.ok(out.includes("| t |\n| --- |\n\n" + END));
  assert.throws(() => replaceTargets("no markers", "", { date: "", cores: 1, cpu: "" }));
});

Deno.test("bench targets: the idempotent row pairs only idempotent runs, apart from acks=all", () => {
  const rows = targetRows({
    e2e: {
      rows: [
        row("tributary", 100, "all", 900),
        row("mock", 100, "all", 1000),
        row("tributary", 100, "all", 500, "produce", true),
        row("mock", 100, "all", 1000, "produce", true),
      ],
    },
  });
  const idem = rows.find((x) => x.target.startsWith("idempotent produce 100 B"));
  assert.equal(idem?.ratio, 0.5);
  assert.equal(idem?.verdict, "MISSED");
  assert.equal(idem?.baseline, "mock 1,000 rec/s");
  // Without an idempotent pair the row is not measured, even with acks=all rows present.
  const none = targetRows({
    e2e: { rows: [row("tributary", 100, "all", 900), row("mock", 100, "all", 1000)] },
  });
  assert.equal(
    none.find((x) => x.target.startsWith("idempotent produce"))?.verdict,
    "not measured",
  );
});

const spread = (ratio: number | null, check = "ok") => ({
  partitions: 1000,
  generator: "replay",
  rounds: [
    { one: { totalUs: 2 }, spread: { totalUs: 2.2 } },
    { one: { totalUs: 2 }, spread: { totalUs: 3 } },
    { one: { totalUs: 2 }, spread: { totalUs: 2.3 } },
  ],
  ratio,
  produceRatio: 1.1,
  fetchRatio: 1.3,
  check,
});

Deno.test("bench targets: 1,000 partitions against one, the same run's ratio at 1.2×", () => {
  const at = (o: Parameters<typeof targetRows>[0]) =>
    targetRows(o).find((x) => x.target.startsWith("1,000 partitions per record"));
  assert.equal(at({})?.verdict, "not measured");
  const met = at({ partitionSpread: spread(1.2) });
  assert.equal(met?.verdict, "met");
  assert.equal(met?.ratio, 1.2);
  // Medians of the rounds, spread and baseline each.
  assert.match(met?.measured ?? "", /^2\.30 µs/);
  assert.equal(met?.baseline, "1 partition 2.00 µs, same broker");
  assert.equal(at({ partitionSpread: spread(1.21) })?.verdict, "MISSED");
  // A standalone run with another partition count is not this target's figure.
  assert.equal(
    at({ partitionSpread: { ...spread(1.1), partitions: 100 } })?.verdict,
    "not measured",
  );
  const failed = at({ partitionSpread: { ...spread(null, "FAIL"), detail: "read back 3" } });
  assert.equal(failed?.verdict, "MISSED");
  assert.equal(failed?.ratio, null);
  assert.match(failed?.measured ?? "", /read back 3/);
});

Deno.test("bench targets: 2-worker scaling counts only when the generators were pinned away", () => {
  const workers = (pinning?: { pinned: boolean; note: string }) => ({
    cores: 2,
    pinning,
    rows: [],
    scaling: { kcat: 1.1, replay: 1.7 },
  });
  const at = (o: Parameters<typeof targetRows>[0]) =>
    targetRows(o).find((x) => x.target.startsWith("2 producers, 2 workers"));
  const pinned = at({ workers: workers({ pinned: true, note: "pinned: broker on cpus 0,1" }) });
  assert.equal(pinned?.verdict, "met");
  assert.equal(pinned?.ratio, 1.7);
  const shared = at({ workers: workers({ pinned: false, note: "not pinned (2 cores)" }) });
  assert.equal(shared?.verdict, "not measured");
  assert.equal(shared?.ratio, 1.7);
  assert.match(shared?.measured ?? "", /not pinned \(2 cores\)/);
  // A workers.json from before pinning was recorded reads as not pinned.
  assert.match(at({ workers: workers() })?.measured ?? "", /not pinned \(2 cores\)/);
  assert.equal(at({})?.verdict, "not measured");
});

Deno.test("bench targets: broker CPU per 100 B record from the workers step's replay", () => {
  const workers = (cpuPerRecord?: unknown[]) => ({
    workers: { rows: [], scaling: {}, cpuPerRecord } as never,
  });
  const find = (rows: ReturnType<typeof targetRows>) =>
    rows.find((x) => x.target === "broker CPU per 100 B record produced ≤ 150 ns");
  const ok = (ns: number) => ({
    recordBytes: 100,
    workers: 1,
    nsPerRecord: ns,
    runsNs: [ns],
    check: "ok",
  });
  assert.equal(find(targetRows(workers([ok(150)])))?.verdict, "met");
  const missed = find(targetRows(workers([ok(151)])));
  assert.equal(missed?.verdict, "MISSED");
  assert.match(missed?.measured ?? "", /^151 ns \(1 worker/);
  // A 1 KiB row of the same list is not a 100 B measurement.
  assert.equal(
    find(targetRows(workers([{ ...ok(100), recordBytes: 1024 }])))?.verdict,
    "not measured",
  );
  assert.equal(
    find(targetRows(workers([{ ...ok(100), nsPerRecord: null, check: "FAIL" }])))?.verdict,
    "MISSED",
  );
  // An older workers.json without the list, and a skipped step.
  assert.equal(find(targetRows(workers(undefined)))?.verdict, "not measured");
  assert.equal(find(targetRows({}))?.measured, "workers step skipped");
});
