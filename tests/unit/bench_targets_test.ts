import assert from "node:assert/strict";
import { formatTargets, targetRows } from "../../bench/lib/targets_summary.ts";

const row = (
  target: string,
  size: number,
  acks: string | undefined,
  rps: number,
  kind = "produce",
) => ({
  scenario: `${kind} ${size}`,
  target,
  kind,
  size,
  acks,
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
