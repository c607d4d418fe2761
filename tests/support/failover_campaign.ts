/**
 * The leader kill campaign, shared by tests/e2e/replication_failover_test.ts (a fixed number
 * of trials) and bench/soak_failover.ts (as many as asked): idempotent confluent-kafka
 * producers (acks=all) and a committing consumer group run while a partition's leader is
 * killed with -9 and restarted, trial after trial (the partitions in turn, so that every broker
 * leads and is killed as leader), each trial awaiting a new leader with a
 * higher epoch and the restarted broker back in every ISR. Then every acknowledged record must
 * be in the log exactly once at the offset its delivery report gave, offsets contiguous, each
 * producer's values in order, and the group must have resumed at its commits.
 */
import assert from "node:assert/strict";
import type { TestCluster } from "./cluster_fixtures.ts";
import {
  awaitFullIsr,
  awaitNewLeader,
  bootstrapOf,
  type ClientEvent,
  createTopic,
  partitionsOf,
  PyClient,
  runClient,
} from "./replication_cluster.ts";

export interface CampaignOptions {
  trials: number;
  topic?: string;
  partitions?: number;
  producers?: number;
  /** Swap the consumer (close it, start another in the group) every this many trials. */
  consumerSwapEvery?: number;
  /** Called after each trial (progress output for the soak). */
  onTrial?: (
    trial: number,
    partition: number,
    killed: number,
    newLeader: number,
    epoch: number,
  ) => void;
}

export interface CampaignResult {
  acked: number;
  consumed: number;
  /** Per trial: the partition whose leader was killed, its leader epoch before and after. */
  elections: { partition: number; before: number; after: number }[];
}

export async function leaderKillCampaign(
  cluster: TestCluster,
  o: CampaignOptions,
): Promise<CampaignResult> {
  const topic = o.topic ?? "failover";
  const partitions = o.partitions ?? 3;
  const group = `${topic}-group`;
  await createTopic(cluster, topic, {
    partitions,
    replicationFactor: 3,
    configs: { "min.insync.replicas": "2" },
  });
  for (let p = 0; p < partitions; p++) await awaitFullIsr(cluster, topic, p);
  const bootstrap = bootstrapOf(cluster);
  const common = { bootstrap, topic, partitions };
  const producers = Array.from(
    { length: o.producers ?? 2 },
    (_, i) => new PyClient("produce", { ...common, id: `P${i}`, "interval-ms": 10 }),
  );
  const consumers = [new PyClient("consume", { ...common, group })];
  const elections: CampaignResult["elections"] = [];
  const ackCount = (c: PyClient) => c.of("ack").length;
  try {
    await consumers[0].until("assigned", (ev) => ev.some((e) => e.ev === "assigned"));
    for (let trial = 1; trial <= o.trials; trial++) {
      // Traffic flows before every kill: each producer has new acknowledgements.
      const before = producers.map(ackCount);
      await Promise.all(
        producers.map((pr, i) =>
          pr.until(`acks beyond ${before[i] + 10}`, () => ackCount(pr) >= before[i] + 10)
        ),
      );
      const via = cluster.running[0];
      const led = async () => [
        ...(await partitionsOf(cluster, via, topic)).map((v, p) => ({
          ...v,
          name: `${topic}-${p}`,
        })),
        ...(await partitionsOf(cluster, via, "__consumer_offsets")).map((v, p) => ({
          ...v,
          name: `__consumer_offsets-${p}`,
        })),
      ];
      const beforeKill = await led();
      const target = (trial - 1) % partitions;
      const now = beforeKill[target];
      await cluster.kill(now.leader);
      // Restarted at once: the broker registers again as soon as its old session expires, and
      // the controller (a new one, when it was the controller too) must see that it restarted
      // and move its leaderships.
      const restarted = cluster.start(now.leader);
      const next = await awaitNewLeader(cluster, topic, target, now.leader, now.leaderEpoch);
      elections.push({ partition: target, before: now.leaderEpoch, after: next.leaderEpoch });
      await restarted;
      for (let p = 0; p < partitions; p++) await awaitFullIsr(cluster, topic, p);
      // Whatever the killed broker led has a new leader epoch: a restarted broker is a new
      // replica, never the leader it was.
      const afterTrial = new Map((await led()).map((v) => [v.name, v]));
      for (const b of beforeKill.filter((v) => v.leader === now.leader)) {
        const a = afterTrial.get(b.name)!;
        assert.ok(
          a.leaderEpoch > b.leaderEpoch,
          `${b.name}: epoch ${b.leaderEpoch} -> ${a.leaderEpoch}`,
        );
      }
      o.onTrial?.(trial, target, now.leader, next.leader, next.leaderEpoch);
      if (o.consumerSwapEvery && trial % o.consumerSwapEvery === 0) {
        const old = consumers[consumers.length - 1];
        await old.stop();
        const fresh = new PyClient("consume", { ...common, group });
        consumers.push(fresh);
        await fresh.until("assigned", (ev) => ev.some((e) => e.ev === "assigned"));
      }
    }
    const done = await Promise.all(producers.map((p) => p.stop()));
    const acks = done.flatMap((ev) => ev.filter((e) => e.ev === "ack"));
    for (const [i, ev] of done.entries()) {
      assert.deepEqual(ev.filter((e) => e.ev === "err"), [], `producer P${i} delivery errors`);
      const d = ev.find((e) => e.ev === "done")!;
      assert.equal(d.unflushed, 0, `producer P${i} left records unflushed`);
      assert.equal(d.acked, d.sent, `producer P${i}: every record sent is acknowledged`);
    }
    const last = consumers[consumers.length - 1];
    const missing = new Set(acks.map((a) => a.v));
    for (const c of consumers.slice(0, -1)) for (const e of c.of("rec")) missing.delete(e.v);
    let scanned = 0;
    await last.until(`all ${acks.length} acknowledged values consumed`, (ev) => {
      for (; scanned < ev.length; scanned++) {
        if (ev[scanned].ev === "rec") missing.delete(ev[scanned].v);
      }
      return missing.size === 0;
    });
    await last.stop();
    const log = await runClient("read", { ...common, isolation: "read_uncommitted" });
    checkLog(log.filter((e) => e.ev === "rec"), acks, partitions);
    const consumed = checkGroup(consumers.map((c) => c.events));
    return { acked: acks.length, consumed, elections };
  } finally {
    for (const c of [...producers, ...consumers]) c.kill();
  }
}

/**
 * The log read back: offsets 0.. contiguous per partition, no value twice, exactly the
 * acknowledged values, each at the offset its delivery report named, each producer's values
 * in send order within a partition.
 */
function checkLog(recs: ClientEvent[], acks: ClientEvent[], partitions: number): void {
  const byP = new Map<number, ClientEvent[]>();
  for (const r of recs) byP.set(r.p, [...(byP.get(r.p) ?? []), r]);
  const values = new Set<string>();
  for (let p = 0; p < partitions; p++) {
    const list = byP.get(p) ?? [];
    list.forEach((r, i) => assert.equal(r.o, i, `partition ${p}: offset ${r.o} at position ${i}`));
    const lastSeq = new Map<string, number>();
    for (const r of list) {
      assert.ok(!values.has(r.v), `value ${r.v} twice in the log (p${p} o${r.o})`);
      values.add(r.v);
      const [id, seq] = r.v.split("-");
      assert.ok(
        (lastSeq.get(id) ?? -1) < Number(seq),
        `p${p}: ${r.v} after ${id}-${lastSeq.get(id)}`,
      );
      lastSeq.set(id, Number(seq));
    }
  }
  const at = new Map(recs.map((r) => [`${r.p}:${r.o}`, r.v]));
  for (const a of acks) {
    assert.equal(at.get(`${a.p}:${a.o}`), a.v, `acknowledged ${a.v} at p${a.p} o${a.o}`);
  }
  assert.equal(values.size, acks.length, "the log holds exactly the acknowledged records");
}

/**
 * The group across its consumers (run one after another, so their events in sequence are in
 * time order): a record is delivered again only at or above the last successful commit of its
 * partition (the uncommitted tail, at least once), and each new consumer starts a partition at
 * its last successful commit or at a later commit whose answer was lost. Returns how many
 * records were delivered.
 */
function checkGroup(consumers: ClientEvent[][]): number {
  const committedOk = new Map<number, number>();
  const attempted = new Map<number, number>();
  const delivered = new Set<string>();
  let n = 0;
  for (const [i, events] of consumers.entries()) {
    const started = new Set<number>();
    for (const e of events) {
      if (e.ev === "commit") {
        attempted.set(e.p, Math.max(attempted.get(e.p) ?? 0, e.o));
        if (e.ok) committedOk.set(e.p, Math.max(committedOk.get(e.p) ?? 0, e.o));
      } else if (e.ev === "rec") {
        n++;
        const key = `${e.p}:${e.o}`;
        const floor = committedOk.get(e.p) ?? 0;
        if (!started.has(e.p)) {
          started.add(e.p);
          if (i > 0) {
            const ceiling = attempted.get(e.p) ?? 0;
            assert.ok(
              e.o >= floor && e.o <= ceiling,
              `consumer ${i} started p${e.p} at ${e.o}, commits were ${floor} (ok) .. ${ceiling}`,
            );
          }
        }
        if (delivered.has(key)) {
          assert.ok(
            e.o >= floor,
            `consumer ${i} re-delivered committed p${e.p} o${e.o} < ${floor}`,
          );
        }
        delivered.add(key);
      }
    }
  }
  return n;
}
