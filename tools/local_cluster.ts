/**
 * Developer tool (`deno task cluster`): a local cluster, for trying clients against several
 * brokers. Starts etcd (from PATH) and three brokers on consecutive ports, each with its own
 * data directory, all under one directory kept between runs; Ctrl-C stops them all.
 *
 *   deno task cluster                          # etcd on 2379, brokers on 9092, 9093, 9094
 *   deno task cluster --brokers 5 --port 19092 --dir ./data/cluster
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    brokers: { type: "string", default: "3" },
    port: { type: "string", default: "9092" },
    "etcd-port": { type: "string", default: "2379" },
    dir: { type: "string", default: "./data/cluster" },
  },
});
const brokers = Number(values.brokers);
const basePort = Number(values.port);
const etcdPort = Number(values["etcd-port"]);
const dir = values.dir!;
if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`--brokers: ${values.brokers}`);
await Deno.mkdir(dir, { recursive: true });

const children: { name: string; child: Deno.ChildProcess }[] = [];

/** Starts a child whose output lines are prefixed by its name. */
function spawn(name: string, cmd: string, args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).spawn();
  for (const stream of [child.stdout, child.stderr]) {
    (async () => {
      let buf = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const l of lines) console.log(`[${name}] ${l}`);
      }
    })();
  }
  children.push({ name, child });
  return child;
}

const etcdUrl = `http://127.0.0.1:${etcdPort}`;
const peerUrl = `http://127.0.0.1:${etcdPort + 1}`;
spawn("etcd", "etcd", [
  "--name=tributary",
  `--data-dir=${dir}/etcd`,
  `--listen-client-urls=${etcdUrl}`,
  `--advertise-client-urls=${etcdUrl}`,
  `--listen-peer-urls=${peerUrl}`,
  `--initial-advertise-peer-urls=${peerUrl}`,
  `--initial-cluster=tributary=${peerUrl}`,
  "--log-level=warn",
]);
// etcd answers /health once it serves.
for (let i = 0;; i++) {
  try {
    const r = await fetch(`${etcdUrl}/health`);
    await r.body?.cancel();
    if (r.ok) break;
  } catch {
    // not yet
  }
  if (i > 100) throw new Error(`etcd did not start on ${etcdUrl}`);
  await new Promise((r) => setTimeout(r, 100));
}

const cli = new URL("../src/cli.ts", import.meta.url).pathname;
for (let id = 1; id <= brokers; id++) {
  spawn(`broker ${id}`, Deno.execPath(), [
    "run",
    "-A",
    cli,
    "--port",
    String(basePort + id - 1),
    "--data-dir",
    `${dir}/broker-${id}`,
    "--workers",
    "1",
    "--set",
    `etcd.endpoints=${etcdUrl}`,
    "--set",
    `node.id=${id}`,
  ]);
}
console.log(
  `cluster: etcd ${etcdUrl}, brokers ${
    Array.from({ length: brokers }, (_, i) => `127.0.0.1:${basePort + i}`).join(",")
  } (Ctrl-C stops)`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Brokers first (they leave the cluster), etcd last.
  for (const { child } of children.slice(1).reverse()) {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone
    }
    await child.status;
  }
  children[0].child.kill("SIGTERM");
  await children[0].child.status;
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
// Any child exiting on its own ends the run.
const first = await Promise.race(
  children.map(async ({ name, child }) => ({ name, status: await child.status })),
);
if (!stopping) {
  console.log(`${first.name} exited with ${first.status.code}; stopping`);
  await stop();
}
