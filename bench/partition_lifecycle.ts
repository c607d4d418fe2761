/**
 * The storage half of metadata_scale.ts, in one process: LogManager.createTopic of 1,000
 * partitions, a clean close, and the open after it (every partition recovered), timed per
 * round. With `--base DIR` (a checkout of another commit, e.g. `git worktree add` or
 * `git archive | tar -x`) the same rounds alternate with that tree's LogManager, so both
 * meet the same load on a shared machine and the ratio means something where the absolute
 * figures do not. Each phase is reported in wall-clock ms and in this process's CPU time
 * (user and system, `process.cpuUsage`), which the load moves less.
 *
 *   deno run -A bench/partition_lifecycle.ts [--rounds 8] [--partitions 1000] [--base DIR]
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { LogManager } from "../storage/log_manager.ts";

interface Manager {
  createTopic(name: string, partitions: number): Promise<unknown>;
  close(): Promise<void>;
}
type Open = (dir: string) => Promise<Manager>;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "8" },
    partitions: { type: "string", default: "1000" },
    base: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const partitions = Number(values.partitions);
const trees: [string, Open][] = [["this tree", (dir) => LogManager.open(dir)]];
if (values.base) {
  const mod = await import(`file://${values.base}/storage/log_manager.ts`);
  trees.unshift(["base", (dir) => mod.LogManager.open(dir)]);
}

type Phases = { create: number[]; close: number[]; open: number[] };
const times = new Map<string, Phases>();
const user = new Map<string, Phases>();
const system = new Map<string, Phases>();
for (const [name] of trees) {
  times.set(name, { create: [], close: [], open: [] });
  user.set(name, { create: [], close: [], open: [] });
  system.set(name, { create: [], close: [], open: [] });
}
/** Records the user and system CPU ms since `from` under `phase`. */
const spent = (name: string, phase: keyof Phases, from: ReturnType<typeof cpuUsage>) => {
  const d = cpuUsage(from);
  user.get(name)![phase].push(d.user / 1000);
  system.get(name)![phase].push(d.system / 1000);
};
for (let r = 0; r < rounds; r++) {
  for (const [name, open] of trees) {
    const t = times.get(name)!;
    const dir = await Deno.makeTempDir({ prefix: "partition-lifecycle-" });
    try {
      const lm = await open(dir);
      let t0 = performance.now();
      let c0 = cpuUsage();
      await lm.createTopic(`t${r}`, partitions);
      t.create.push(performance.now() - t0);
      spent(name, "create", c0);
      t0 = performance.now();
      c0 = cpuUsage();
      await lm.close();
      t.close.push(performance.now() - t0);
      spent(name, "close", c0);
      t0 = performance.now();
      c0 = cpuUsage();
      const again = await open(dir);
      t.open.push(performance.now() - t0);
      spent(name, "open", c0);
      await again.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`${partitions} partitions, ${rounds} rounds, median ms (max)`);
console.log("| tree | createTopic | close | open |\n| --- | --- | --- | --- |");
const cell = (a: number[]) => `${median(a).toFixed(0)} (${Math.max(...a).toFixed(0)})`;
for (const [name, t] of times) {
  console.log(`| ${name} | ${cell(t.create)} | ${cell(t.close)} | ${cell(t.open)} |`);
}
for (const [what, cpu] of [["user", user], ["system", system]] as const) {
  console.log(`\n${what} CPU ms, median (max)`);
  console.log("| tree | createTopic | close | open |\n| --- | --- | --- | --- |");
  for (const [name, c] of cpu) {
    console.log(`| ${name} | ${cell(c.create)} | ${cell(c.close)} | ${cell(c.open)} |`);
  }
}
