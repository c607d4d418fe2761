/**
 * Test harness: real brokers on loopback ports and real clients (kcat, kafkajs, python
 * librdkafka / kafka-python) talking to them.
 */
import { startBroker } from "../../mod.ts";
import type { BrokerHandle, BrokerOptions } from "../../mod.ts";
import { setStrictEncoding } from "../../protocol/schema.ts";

// Tests encode strictly: a message key that is no field of its schema (a misspelt `errorcode`)
// throws instead of going out as the field's default. The environment variable carries the
// same switch to worker threads and to brokers started as subprocesses.
setStrictEncoding(true);
Deno.env.set("TRIBUTARY_STRICT_ENCODE", "1");

/** Starts an in-process broker on a free loopback port with a fresh data directory. */
export async function testBroker(
  opts: BrokerOptions & { keepDir?: boolean } = {},
): Promise<BrokerHandle & { dataDir: string; stop(): Promise<void> }> {
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "tributary-test-" });
  const h = await startBroker({ host: "127.0.0.1", port: 0, ...opts, dataDir });
  return {
    ...h,
    address: h.address,
    dataDir,
    close: () => h.close(),
    async stop() {
      await h.close();
      if (!opts.keepDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command with optional stdin, returning its output; fails on a timeout. */
export async function run(
  cmd: string,
  args: string[],
  opts: { stdin?: Uint8Array | string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
    env: opts.env,
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  }, opts.timeoutMs ?? 60_000);
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  clearTimeout(timer);
  return { code: out.code, stdout: out.stdout, stderr: new TextDecoder().decode(out.stderr) };
}

/** kcat against `address`; throws with stderr when it fails. */
export async function kcat(
  address: string,
  args: string[],
  opts: { stdin?: Uint8Array | string; timeoutMs?: number } = {},
): Promise<Uint8Array> {
  const r = await run("kcat", ["-b", address, ...args], opts);
  if (r.code !== 0) throw new Error(`kcat ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Runs a Python snippet with Debian's python3 (which has confluent_kafka and kafka). */
export async function python(
  code: string,
  args: string[] = [],
  timeoutMs = 60_000,
): Promise<string> {
  const r = await run("/usr/bin/python3", ["-c", code, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`python exited ${r.code}: ${r.stderr}`);
  return new TextDecoder().decode(r.stdout);
}

export const decoder = new TextDecoder();

/** A broker in a child process (for kill -9 and CLI tests). */
export class BrokerProcess {
  private constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
    readonly dataDir: string,
    readonly lines: string[],
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** `env` adds to the child's environment (e.g. TRIBUTARY_TEST_HOOKS=1). */
  static async start(
    dataDir: string,
    extra: string[] = [],
    env: Record<string, string> = {},
  ): Promise<BrokerProcess> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../src/cli.ts", import.meta.url).pathname,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        // Two Deno workers unless a test says otherwise: the same set-up on any machine.
        ...(extra.includes("--workers") ? [] : ["--workers", "2"]),
        ...extra,
      ],
      // Startup is detected from the info-level "listening on" line, whatever the caller's
      // TRIBUTARY_LOG_LEVEL (a --log-level in `extra` still wins).
      env: { ...env, TRIBUTARY_LOG_LEVEL: "info" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      const m = /listening on [^:]+:(\d+)/.exec(buf);
      if (m) {
        lines.push(...buf.split("\n"));
        // Keep draining stderr so the child never blocks on a full pipe.
        (async () => {
          while (true) {
            const r = await reader.read().catch(() => ({ done: true, value: "" }));
            if (r.done) break;
            lines.push(...(r.value ?? "").split("\n"));
          }
        })();
        child.stdout.cancel().catch(() => {});
        return new BrokerProcess(child, Number(m[1]), dataDir, lines);
      }
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    throw new Error(`broker did not start: ${buf}`);
  }

  async kill(signal: Deno.Signal = "SIGKILL"): Promise<number> {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
    const s = await this.child.status;
    return s.code;
  }
}

/**
 * A child process driven line by line: read its stdout lines as they come and write lines to
 * its stdin (for clients that must keep running while a broker is killed or restarted).
 */
export class LineProcess {
  private pending = "";
  private readonly queue: string[] = [];
  private waiter?: () => void;
  private ended = false;
  private readonly stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly stderr: Promise<string>;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(cmd: string, args: string[], timeoutMs = 60_000) {
    const child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stdin = child.stdin.getWriter();
    this.stderr = new Response(child.stderr).text();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }, timeoutMs);
    this.status = child.status.finally(() => clearTimeout(timer));
    (async () => {
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        this.pending += chunk;
        const parts = this.pending.split("\n");
        this.pending = parts.pop()!;
        this.queue.push(...parts);
        this.waiter?.();
      }
      this.ended = true;
      this.waiter?.();
    })();
  }

  /** The next stdout line, or null once stdout has ended. */
  async nextLine(timeoutMs = 30_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output line within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.queue.shift()!;
  }

  async writeLine(line: string): Promise<void> {
    await this.stdin.write(new TextEncoder().encode(line + "\n"));
  }

  async closeStdin(): Promise<void> {
    await this.stdin.close().catch(() => {});
  }
}
