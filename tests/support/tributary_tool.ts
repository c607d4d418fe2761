/**
 * Runs the `tributary` command-line tool as a child process for the tool's tests.
 */
import assert from "node:assert/strict";
import { decoder, run } from "./helpers.ts";

export const MAIN = new URL("../../src/tool/main.ts", import.meta.url).pathname;
export const ROOT = new URL("../..", import.meta.url).pathname;

export interface ToolResult {
  code: number;
  out: string;
  err: string;
}

export async function tool(args: string[], stdin?: string): Promise<ToolResult> {
  const r = await run(Deno.execPath(), ["run", "-A", "--quiet", MAIN, ...args], {
    stdin,
    timeoutMs: 60_000,
  });
  return { code: r.code, out: decoder.decode(r.stdout), err: r.stderr };
}

/** Runs the tool and fails the test with its stderr unless it exits 0. */
export async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await tool(args, stdin);
  assert.equal(r.code, 0, `tributary ${args.join(" ")} exited ${r.code}: ${r.err}`);
  return r.out;
}

export const bs = (address: string) => ["--bootstrap-server", address];

/** The tool running in the background: its stdout line by line, and signals. */
export class Background {
  private readonly child: Deno.ChildProcess;
  private readonly lines: AsyncIterator<string>;
  readonly stderr: Promise<string>;

  constructor(args: string[]) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stderr = new Response(this.child.stderr).text();
    const text = this.child.stdout.pipeThrough(new TextDecoderStream());
    this.lines = (async function* () {
      let buf = "";
      for await (const chunk of text) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          yield buf.slice(0, i);
          buf = buf.slice(i + 1);
        }
      }
    })();
  }

  async nextLine(): Promise<string | undefined> {
    return (await this.lines.next()).value;
  }

  kill(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Kills it if it still runs (a failed test must not leave it behind). */
  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.child.status;
    await this.stderr.catch(() => "");
  }

  get status(): Promise<Deno.CommandStatus> {
    return this.child.status;
  }
}
