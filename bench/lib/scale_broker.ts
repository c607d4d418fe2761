/** The scale benchmark's child processes: brokers started, measured and stopped (all registered). */

export const ROOT = new URL("../../", import.meta.url);
export const CLI = new URL("src/cli.ts", ROOT).pathname;
export const PYTHON = "/usr/bin/python3";
export const LOOPBACK = "127.0.0.1";

export const live = new Set<Deno.ChildProcess>();

export function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

export async function waitExit(
  child: Deno.ChildProcess,
  ms: number,
): Promise<Deno.CommandStatus | null> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<null>((r) => (id = setTimeout(() => r(null), ms)));
  const s = await Promise.race([child.status, t]);
  clearTimeout(id);
  return s;
}

export async function killAllScale(): Promise<void> {
  const all = [...live];
  for (const c of all) killQuietly(c, "SIGKILL");
  await Promise.all(all.map((c) => waitExit(c, 5_000)));
  live.clear();
}

export interface Broker {
  child: Deno.ChildProcess;
  port: number;
  /** Spawn to the "listening on" line, ms. */
  startMs: number;
  lines: string[];
}

/** Starts src/cli.ts on `dataDir`; times spawn → "listening on". */
export async function startBroker(
  dataDir: string,
  timeoutMs = 120_000,
  extraArgs: string[] = [],
): Promise<Broker> {
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "--host",
      LOOPBACK,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      ...extraArgs,
    ],
    env: { TRIBUTARY_LOG_LEVEL: "info" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const lines: string[] = [];
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000 && Date.now() < deadline; i++) {
    const r = await reader.read();
    if (r.done) break;
    buf += r.value;
    const m = /listening on [^:]+:(\d+)/.exec(buf);
    if (m) {
      const startMs = performance.now() - t0;
      lines.push(...buf.split("\n"));
      (async () => {
        for (let j = 0; j < 10_000_000; j++) {
          const x = await reader.read().catch(() => ({ done: true as const, value: "" }));
          if (x.done) break;
          lines.push(...(x.value ?? "").split("\n"));
          if (lines.length > 4000) lines.splice(0, 2000);
        }
      })();
      return { child, port: Number(m[1]), startMs, lines };
    }
  }
  killQuietly(child, "SIGKILL");
  live.delete(child);
  throw new Error(`broker did not start: ${buf.slice(0, 2000)}`);
}

export async function stopBroker(b: Broker): Promise<number> {
  killQuietly(b.child, "SIGTERM");
  let s = await waitExit(b.child, 60_000);
  if (!s) {
    killQuietly(b.child, "SIGKILL");
    s = await b.child.status;
  }
  live.delete(b.child);
  return s.code;
}

/** USER_HZ, what /proc/PID/stat counts CPU time in (100 on every Linux Deno runs on). */
const CLK_TCK = 100;

/** utime and stime of a process (all its threads, exited ones included), in ticks. */
async function cpuTicks(pid: number): Promise<{ user: number; system: number }> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(f[11]), system: Number(f[12]) };
}

/** utime and stime of a process (all its threads), seconds, from /proc. */
export async function processCpuSeconds(pid: number): Promise<{ user: number; system: number }> {
  const t = await cpuTicks(pid);
  return { user: t.user / CLK_TCK, system: t.system / CLK_TCK };
}

/** utime + stime of a process (all threads) in seconds, from /proc (10 ms ticks). */
export async function cpuSeconds(pid: number): Promise<number> {
  const t = await cpuTicks(pid);
  return (t.user + t.system) / CLK_TCK;
}

/** utime + stime of a process (all threads) in ms, from /proc (10 ms ticks). */
export async function cpuMs(pid: number): Promise<number> {
  const t = await cpuTicks(pid);
  return (t.user + t.system) * (1000 / CLK_TCK);
}

/** VmRSS of a process in MiB, or null. */
export async function rssMiB(pid: number): Promise<number | null> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = /VmRSS:\s*(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs `python3 ARGS` (tracked in `live`, so an interrupted bench kills it) and parses the
 * last line it printed as JSON; a run that printed none fails with `what`, its exit code and
 * the ends of its output.
 */
export async function runPythonJson(args: string[], what: string): Promise<unknown> {
  const child = new Deno.Command(PYTHON, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const out = await child.output();
  live.delete(child);
  const text = new TextDecoder().decode(out.stdout).trim();
  try {
    return JSON.parse(text.split("\n").pop() ?? "");
  } catch {
    throw new Error(
      `${what} failed (exit ${out.code}): ${text.slice(0, 500)} ${
        new TextDecoder().decode(out.stderr).slice(-1500)
      }`,
    );
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
