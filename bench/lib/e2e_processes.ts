/**
 * Child processes of the end-to-end benchmark: every one is registered, and stopped at the
 * end or on error / Ctrl-C; servers are started and their output watched.
 */

export interface Server {
  name: string;
  child: Deno.ChildProcess;
  match: RegExpExecArray;
  /** Recent output lines (bounded), both streams. */
  lines: string[];
  stdin: WritableStreamDefaultWriter<Uint8Array> | null;
}

export const live = new Set<Deno.ChildProcess>();
export const tempDirs = new Set<string>();
let aborted = false;

/** Spawns and registers a child; refuses once the run is being aborted. */
export function spawn(cmd: string, options: Deno.CommandOptions): Deno.ChildProcess {
  if (aborted) throw new Error("benchmark aborted");
  const child = new Deno.Command(cmd, options).spawn();
  live.add(child);
  return child;
}

export function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

export function timeout<T>(ms: number, value: T): { promise: Promise<T>; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((resolve) => {
    id = setTimeout(() => resolve(value), Math.max(0, ms));
  });
  return { promise, cancel: () => clearTimeout(id) };
}

/** Waits for exit up to `ms`; returns the status or null. */
export async function waitExit(
  child: Deno.ChildProcess,
  ms: number,
): Promise<Deno.CommandStatus | null> {
  const t = timeout(ms, null);
  const s = await Promise.race([child.status, t.promise]);
  t.cancel();
  return s;
}

/** Polite stop (stdin EOF or `signal`), then SIGKILL after `graceMs`. */
export async function stopChild(
  child: Deno.ChildProcess,
  opts: { signal?: Deno.Signal; stdin?: WritableStreamDefaultWriter<Uint8Array> | null } = {},
  graceMs = 10_000,
): Promise<Deno.CommandStatus> {
  if (opts.stdin) await opts.stdin.close().catch(() => {});
  if (opts.signal) killQuietly(child, opts.signal);
  let s = await waitExit(child, graceMs);
  if (!s) {
    killQuietly(child, "SIGKILL");
    s = await child.status;
  }
  live.delete(child);
  return s;
}

/** Kills everything still running (end of run, errors). */
export async function killAll(): Promise<void> {
  const all = [...live];
  for (const c of all) killQuietly(c, "SIGKILL");
  await Promise.all(all.map((c) => waitExit(c, 5_000)));
  live.clear();
}

/** Ctrl-C / SIGTERM: no new children, kill the running ones, remove temporary files. */
export async function abortAll(): Promise<void> {
  aborted = true;
  await killAll();
  for (const d of tempDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  tempDirs.clear();
}

/** Appends decoded lines of `stream` to `lines` (keeping the last 2000) until it ends. */
export async function drain(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  onText?: (text: string) => void,
): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let partial = "";
  // Bounded by the child's lifetime (every child is killed at the end) and a count guard.
  for (let i = 0; i < 10_000_000; i++) {
    const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (r.done) break;
    onText?.(r.value);
    const parts = (partial + r.value).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    if (lines.length > 4000) lines.splice(0, lines.length - 2000);
  }
  if (partial) lines.push(partial);
}

/** Spawns a long-running server and waits until its output matches `ready`. */
export async function startServer(
  name: string,
  cmd: string,
  args: string[],
  ready: RegExp,
  timeoutMs: number,
  env?: Record<string, string>,
): Promise<Server> {
  const child = spawn(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped", env });
  const stdin = child.stdin.getWriter();
  const lines: string[] = [];
  let seen = "";
  let resolveReady: (m: RegExpExecArray) => void = () => {};
  const matched = new Promise<RegExpExecArray>((r) => (resolveReady = r));
  const onText = (t: string) => {
    if (seen.length > 65536) return;
    seen += t;
    const m = ready.exec(seen);
    if (m) resolveReady(m);
  };
  drain(child.stdout, lines, onText);
  drain(child.stderr, lines, onText);
  const t = timeout(timeoutMs, "timeout" as const);
  const first = await Promise.race([
    matched,
    child.status.then(() => "exited" as const),
    t.promise,
  ]);
  t.cancel();
  if (typeof first === "string") {
    await stopChild(child, { signal: "SIGKILL" }, 2_000);
    throw new Error(`${name} did not start (${first}): ${seen.slice(0, 2000)}`);
  }
  return { name, child, match: first, lines, stdin };
}
