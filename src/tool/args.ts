/**
 * Command-line parsing shared by the tool's commands: Kafka-tool style long flags
 * (`--bootstrap-server`, repeatable `--property k=v` and `--config k=v`), usage errors that
 * exit 2 with a pointer to --help, and the bits every command needs.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { KafkaClient } from "../client/client.ts";
import type { SaslCredentials } from "../client/sasl.ts";
import { parseProperties } from "../properties.ts";
import { parseJaasConfig } from "../security/jaas.ts";

export const VERSION: string = denoJson.version;

/** A mistake in the command line: printed with the command's --help hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly command = "") {
    super(message);
    this.name = "UsageError";
  }
}

/** Input the command cannot use (a line without its key separator): exit code 1. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command accepts. */
export const COMMON: Options = {
  "bootstrap-server": { type: "string" },
  "help": { type: "boolean", short: "h" },
  "version": { type: "boolean" },
  "request-timeout-ms": { type: "string" },
  "command-config": { type: "string" },
};

export const BOOTSTRAP_HELP =
  `  --bootstrap-server HOST:PORT[,HOST:PORT]  brokers to connect to (default localhost:9092,
                           or TRIBUTARY_BOOTSTRAP_SERVER)
  --command-config FILE    client properties: security.protocol=SASL_PLAINTEXT, sasl.mechanism
                           (PLAIN, SCRAM-SHA-256/512), sasl.jaas.config with username, password
  --request-timeout-ms N   how long to wait for each broker response (default 30000)
  --help                   this text
  --version                the tool's version`;

export interface Parsed {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

export function parse(args: string[], options: Options, command: string): Parsed {
  const all = { ...COMMON, ...options };
  // `--shift-by -2` as Kafka's tools take it: a negative number is a value, not a flag.
  const fixed: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : undefined;
    if (name && all[name]?.type === "string" && /^-\d/.test(args[i + 1] ?? "")) {
      fixed.push(`--${name}=${args[++i]}`);
    } else {
      fixed.push(args[i]);
    }
  }
  try {
    const r = parseArgs({
      args: fixed,
      options: all,
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/s, ""), command);
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === "string" ? v : undefined;
}

export function list(p: Parsed, name: string): string[] {
  const v = p.values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function required(p: Parsed, name: string, command: string): string {
  const v = str(p, name);
  if (v === undefined || v === "") throw new UsageError(`--${name} is required`, command);
  return v;
}

/** An integer flag, or `def` when absent; anything else is a usage error. */
export function int(p: Parsed, name: string, command: string, def?: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name}: '${v}' is not an integer`, command);
  return Number(v);
}

/** `k=v` pairs of a repeatable flag (`--property`, `--config`); values may contain '='. */
export function pairs(p: Parsed, name: string, command: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list(p, name)) {
    for (const kv of item.split(/,(?=[^,=]+=)/)) {
      const i = kv.indexOf("=");
      if (i <= 0) throw new UsageError(`--${name} '${kv}' is not key=value`, command);
      out[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  return out;
}

/** A client for the --bootstrap-server list. */
export function clientFor(p: Parsed): KafkaClient {
  const servers = str(p, "bootstrap-server") ?? Deno.env.get("TRIBUTARY_BOOTSTRAP_SERVER") ??
    "localhost:9092";
  const timeout = int(p, "request-timeout-ms", "", 30_000)!;
  const file = str(p, "command-config");
  return new KafkaClient(servers.split(",").map((s) => s.trim()).filter((s) => s), {
    clientId: "tributary-cli",
    requestTimeoutMs: timeout,
    softwareName: "tributary-cli",
    softwareVersion: VERSION,
    sasl: file === undefined ? undefined : saslFromCommandConfig(file),
  });
}

/**
 * The SASL login of a Kafka tools `--command-config` file: `security.protocol=SASL_PLAINTEXT`,
 * `sasl.mechanism` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and the user and password from
 * `sasl.jaas.config` (`... required username="u" password="p";`). Other protocols are refused:
 * this tool speaks neither TLS nor other mechanisms.
 */
export function saslFromCommandConfig(file: string): SaslCredentials | undefined {
  let props: Map<string, string>;
  try {
    props = parseProperties(Deno.readTextFileSync(file));
  } catch (e) {
    throw new UsageError(`--command-config ${file}: ${(e as Error).message}`);
  }
  const protocol = (props.get("security.protocol") ?? "PLAINTEXT").toUpperCase();
  if (protocol === "PLAINTEXT") return undefined;
  if (protocol !== "SASL_PLAINTEXT") {
    throw new UsageError(`--command-config: security.protocol ${protocol} is not supported here`);
  }
  const mechanism = props.get("sasl.mechanism") ?? "GSSAPI";
  if (mechanism !== "PLAIN" && mechanism !== "SCRAM-SHA-256" && mechanism !== "SCRAM-SHA-512") {
    throw new UsageError(`--command-config: sasl.mechanism ${mechanism} is not supported here`);
  }
  let jaas;
  try {
    jaas = parseJaasConfig(props.get("sasl.jaas.config") ?? "");
  } catch (e) {
    throw new UsageError(`--command-config: ${(e as Error).message}`);
  }
  const username = jaas.options.get("username");
  const password = jaas.options.get("password");
  if (username === undefined || password === undefined) {
    throw new UsageError("--command-config: sasl.jaas.config needs username and password");
  }
  return { mechanism, username, password };
}

/** Prints rows as left-aligned columns separated by spaces, as Kafka's tools do. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join(" "))
    .join("\n") + "\n";
}

const encoder = new TextEncoder();

/** Writes all of `s` to stdout (console.log would add its own formatting). */
export async function out(s: string | Uint8Array): Promise<void> {
  const b = typeof s === "string" ? encoder.encode(s) : s;
  for (let off = 0; off < b.length;) off += await Deno.stdout.write(b.subarray(off));
}
