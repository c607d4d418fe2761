/**
 * Brokers of a TestCluster (tests/support/cluster_fixtures.ts) started with the admin API on
 * a free port and extra settings, for tests that read /v1 and /metrics of each broker.
 */
import assert from "node:assert/strict";
import { BrokerProcess } from "./helpers.ts";
import { SESSION_MS, type TestCluster } from "./cluster_fixtures.ts";
import { until } from "./wait.ts";

/**
 * Starts broker `id` of `cluster` (one process, no Deno workers: replication runs where the
 * logs are) with the admin API on a free port and `settings` as `--set` pairs; returns the
 * admin API's URL.
 */
export async function startWithAdmin(
  cluster: TestCluster,
  id: number,
  settings: Record<string, string> = {},
): Promise<string> {
  let dir = cluster.dirs.get(id);
  if (!dir) cluster.dirs.set(id, dir = await Deno.makeTempDir({ prefix: `tributary-v${id}-` }));
  const set = Object.entries({
    "etcd.endpoints": cluster.etcd.endpoint,
    "etcd.prefix": cluster.prefix,
    "node.id": String(id),
    "broker.session.timeout.ms": String(SESSION_MS),
    "etcd.request.timeout.ms": "2000",
    ...settings,
  }).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  const p = await BrokerProcess.start(dir, ["--workers", "1", "--admin-port", "0", ...set]);
  cluster.procs.set(id, p);
  return await until(`broker ${id}'s admin API line`, () => {
    // `lines` holds stderr split at newlines as it was read: a line read in two chunks is in
    // two entries, so look at them joined (the URL ends at its "/").
    const m = /admin API and console on (http:\/\/[^/\s]+)\//.exec(p.lines.join(""));
    return m ? m[1] : null;
  });
}

// deno-lint-ignore no-explicit-any
export type Json = any;

/** GET a JSON admin route, asserting 200. */
export async function getJson(url: string): Promise<Json> {
  const r = await fetch(url);
  assert.equal(r.status, 200, url);
  return await r.json();
}

/** The value of one unlabelled Prometheus sample of `/metrics`. */
export async function gauge(admin: string, name: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.split(" ")[1]);
}
