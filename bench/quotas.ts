/**
 * Throughput under a client quota: a producer with `producer_byte_rate` set, its achieved
 * rate against the configured one.
 *
 *   deno run -A bench/quotas.ts [--quick]
 *
 * A broker in process, AlterClientQuotas for the producer's client id, then one producer
 * (one Produce request in flight, as a throttled client waits out its mute) sending 16 KiB
 * batches for the run's length. The quota admits a burst of about `rate` × 10 s at first
 * (the rate is averaged over at least 10 windows), which keeps counting until it leaves the
 * 11 s sampled span, so the steady rate is measured from one whole span after the first
 * throttled response: bytes acknowledged from then on over the time since. A ratio
 * near 1.0 is the quota met; well above is the quota failing to hold. Results on stdout and
 * in bench/out/quotas.json; never a failure.
 */
import { parseArgs } from "node:util";
import { startBroker } from "../mod.ts";
import {
  AlterClientQuotasRequest,
  AlterClientQuotasResponse,
  ProduceRequest,
  ProduceResponse,
} from "../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../protocol/records.ts";
import { RawClient } from "../tests/support/raw_client.ts";

const OUT = new URL("./out/quotas.json", import.meta.url).pathname;

export interface QuotaRow {
  configuredBytesPerSec: number;
  achievedBytesPerSec: number;
  ratio: number;
  seconds: number;
  throttledResponses: number;
}

export async function runQuotas(opts: { quick?: boolean } = {}): Promise<QuotaRow[]> {
  const rows: QuotaRow[] = [];
  const seconds = opts.quick ? 30 : 60;
  /** quota.window.num × quota.window.size.seconds (the defaults). */
  const spanMs = 11_000;
  for (const rate of opts.quick ? [256 * 1024] : [256 * 1024, 1024 * 1024]) {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-quota-bench-" });
    const b = await startBroker({ host: "127.0.0.1", port: 0, dataDir });
    try {
      await b.broker.createTopic("quota-bench", 1);
      const c = await RawClient.connect(b.port);
      const set = await c.call(AlterClientQuotasRequest, AlterClientQuotasResponse, 1, {
        // RawClient's client id.
        entries: [{
          entity: [{ entityType: "client-id", entityName: "bench" }],
          ops: [{ key: "producer_byte_rate", value: rate, remove: false }],
        }],
        validateOnly: false,
      });
      if (set.entries[0].errorCode !== 0) throw new Error(`quota not set: ${set.entries[0]}`);
      const batch = encodeRecordBatch({
        records: Array.from({ length: 16 }, (_, i) => ({ key: `k${i}`, value: "v".repeat(1000) })),
      });
      const started = performance.now();
      let firstThrottled = -1;
      let steadyFrom = -1;
      let bytesAfter = 0;
      let throttled = 0;
      while (performance.now() - started < seconds * 1000) {
        const r = await c.call(ProduceRequest, ProduceResponse, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: "quota-bench", partitionData: [{ index: 0, records: batch }] }],
        });
        const now = performance.now();
        if (r.throttleTimeMs > 0) throttled++;
        if (r.throttleTimeMs > 0 && firstThrottled < 0) firstThrottled = now;
        if (steadyFrom >= 0) bytesAfter += batch.length;
        else if (firstThrottled >= 0 && now - firstThrottled >= spanMs) steadyFrom = now;
      }
      c.close();
      const steadyMs = steadyFrom < 0 ? 0 : performance.now() - steadyFrom;
      const achieved = steadyMs > 0 ? bytesAfter / (steadyMs / 1000) : NaN;
      rows.push({
        configuredBytesPerSec: rate,
        achievedBytesPerSec: Math.round(achieved),
        ratio: achieved / rate,
        seconds,
        throttledResponses: throttled,
      });
    } finally {
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  }
  await Deno.mkdir(new URL("./out/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(OUT, JSON.stringify(rows, null, 2) + "\n");
  return rows;
}

export function printQuotas(rows: QuotaRow[], say: (l: string) => void = console.log): void {
  say(
    "configured B/s | achieved B/s (steady, from 11 s after the first throttle) | ratio | throttled",
  );
  for (const r of rows) {
    say(
      `${r.configuredBytesPerSec} | ${r.achievedBytesPerSec} | ${r.ratio.toFixed(3)} | ` +
        `${r.throttledResponses} (${r.seconds} s)`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { quick: { type: "boolean" } } });
  printQuotas(await runQuotas({ quick: values.quick }));
}
