import assert from "node:assert/strict";
import { BrokerIncarnations } from "../../src/cluster/broker_incarnations.ts";
import type { BrokerRegistration } from "../../src/cluster/cluster_records.ts";

const reg = (nodeId: number, incarnationId: string): BrokerRegistration => ({
  nodeId,
  host: "127.0.0.1",
  port: 9092,
  rack: null,
  listeners: [],
  incarnationId,
});

const live = (...regs: BrokerRegistration[]) => new Map(regs.map((r) => [r.nodeId, r]));

Deno.test("BrokerIncarnations: a live broker with a new incarnation has bounced, once", () => {
  const inc = new BrokerIncarnations();
  assert.deepEqual(inc.bounced(live(reg(1, "a"), reg(2, "b"))), new Set());
  assert.deepEqual(inc.bounced(live(reg(1, "a"), reg(2, "b2"))), new Set([2]));
  // Remembered: the same incarnation again is not a bounce.
  assert.deepEqual(inc.bounced(live(reg(1, "a"), reg(2, "b2"))), new Set());
});

Deno.test("BrokerIncarnations: a broker seen gone and back is new, not bounced", () => {
  const inc = new BrokerIncarnations();
  inc.bounced(live(reg(1, "a"), reg(2, "b")));
  assert.deepEqual(inc.bounced(live(reg(1, "a"))), new Set());
  assert.deepEqual(inc.bounced(live(reg(1, "a"), reg(2, "b2"))), new Set());
});
