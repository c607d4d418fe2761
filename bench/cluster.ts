/**
 * Cluster benchmark (`deno run -A bench/cluster.ts [--rounds N] [--failovers N]`): three
 * broker processes over a real etcd (started as the tests start it).
 *
 * - Metadata propagation: a topic created through one broker (CreateTopics, answered once it
 *   is visible there), then the time until Metadata on every broker lists it with a leader
 *   for each partition; p50 and p99 over the rounds.
 * - Controller failover: the controller killed with SIGKILL, then the time until another
 *   broker's Metadata names a new controller (bounded below by broker.session.timeout.ms,
 *   which the lease must outlive); the killed broker is restarted between rounds.
 *
 * Results on stdout and in bench/out/cluster.json.
 */
import { parseArgs } from "node:util";
import { createTopic } from "../src/client/admin.ts";
import { KafkaClient } from "../src/client/client.ts";
import { BrokerProcess } from "../tests/support/helpers.ts";
import { startEtcd } from "../tests/support/etcd.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "50" },
    failovers: { type: "string", default: "3" },
    "session-timeout-ms": { type: "string", default: "3000" },
  },
});
const rounds = Number(values.rounds);
const failovers = Number(values.failovers);
const sessionMs = Number(values["session-timeout-ms"]);

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

const etcd = await startEtcd();
const dirs = new Map<number, string>();
const procs = new Map<number, BrokerProcess>();
const start = async (id: number) => {
  if (!dirs.has(id)) dirs.set(id, await Deno.makeTempDir({ prefix: `tributary-bench-c${id}-` }));
  procs.set(
    id,
    await BrokerProcess.start(dirs.get(id)!, [
      "--workers",
      "1",
      "--set",
      `etcd.endpoints=${etcd.endpoint}`,
      "--set",
      `node.id=${id}`,
      "--set",
      `broker.session.timeout.ms=${sessionMs}`,
    ]),
  );
};
const clients = new Map<number, KafkaClient>();
const clientOf = (id: number) => {
  let c = clients.get(id);
  if (!c) clients.set(id, c = new KafkaClient([procs.get(id)!.address]));
  return c;
};
const dropClient = (id: number) => {
  clients.get(id)?.close();
  clients.delete(id);
};

try {
  for (const id of [1, 2, 3]) await start(id);
  const propagation: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const name = `bench-${i}`;
    const via = 1 + (i % 3);
    const t0 = performance.now();
    await createTopic(clientOf(via), name, 3, 1, {});
    const pending = new Set([1, 2, 3]);
    while (pending.size > 0) {
      for (const id of [...pending]) {
        const md = await clientOf(id).metadata([name]);
        const t = md.topics[0];
        if (
          t?.errorCode === 0 && t.partitions.length === 3 &&
          t.partitions.every((p) => p.leader >= 0)
        ) {
          pending.delete(id);
        }
      }
    }
    propagation.push(performance.now() - t0);
  }
  const failover: number[] = [];
  for (let i = 0; i < failovers; i++) {
    const controller = (await clientOf(1).metadata([])).controllerId;
    const witness = [1, 2, 3].find((id) => id !== controller)!;
    const t0 = performance.now();
    await procs.get(controller)!.kill("SIGKILL");
    dropClient(controller);
    for (;;) {
      const c = (await clientOf(witness).metadata([])).controllerId;
      if (c !== -1 && c !== controller) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    failover.push(performance.now() - t0);
    await start(controller);
    while ((await clientOf(witness).metadata([])).brokers.length < 3) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const result = {
    propagationMs: {
      rounds,
      p50: percentile(propagation, 0.5),
      p99: percentile(propagation, 0.99),
      max: Math.max(...propagation),
    },
    failoverMs: { sessionTimeoutMs: sessionMs, runs: failover },
  };
  console.log(
    `metadata propagation (create → visible with leaders on all 3 brokers), ${rounds} rounds: ` +
      `p50 ${result.propagationMs.p50.toFixed(1)} ms, p99 ${
        result.propagationMs.p99.toFixed(1)
      } ms`,
  );
  console.log(
    `controller failover (SIGKILL → new controller in Metadata), session timeout ${sessionMs} ms: ` +
      failover.map((ms) => `${ms.toFixed(0)} ms`).join(", "),
  );
  const out = new URL("./out/", import.meta.url).pathname;
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(`${out}cluster.json`, JSON.stringify(result, null, 2));
} finally {
  for (const id of [...clients.keys()]) dropClient(id);
  for (const p of procs.values()) await p.kill("SIGTERM");
  for (const d of dirs.values()) await Deno.remove(d, { recursive: true }).catch(() => {});
  await etcd.cleanup();
}
