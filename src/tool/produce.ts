/**
 * `tributary produce`: kafka-console-producer. One record per input line (stdin or --file),
 * parsed as Kafka 3.9's LineMessageReader does with its properties: parse.key, key.separator,
 * parse.headers, headers.delimiter, headers.separator, headers.key.separator, null.marker,
 * ignore.error. Lines are sent as they arrive (each read chunk is one produce request).
 */
import { COMPRESSION_CODECS, Producer, type ProducerRecord } from "../client/producer.ts";
import {
  BOOTSTRAP_HELP,
  clientFor,
  flag,
  InputError,
  int,
  out,
  pairs,
  parse,
  required,
  str,
  UsageError,
} from "./args.ts";

export const PRODUCE_HELP = `Usage: tributary produce --topic T [options] < lines

  --topic T                topic to write to (created if the broker auto-creates topics)
  --file PATH              read lines from PATH instead of stdin
  --partition N            write every record to partition N (default: murmur2 of the key,
                           or one partition per batch for records without a key)
  --acks all|-1|0|1        acknowledgement level (default all); also --request-required-acks
  --compression-codec C    none, gzip, snappy, lz4 or zstd (default none); also
                           --compression-type
  --timeout MS             produce request timeout (default 30000)
  --property KEY=VALUE     line parsing, as kafka-console-producer:
                             parse.key=true key.separator=<TAB>
                             parse.headers=true headers.delimiter=<TAB> headers.separator=,
                             headers.key.separator=: null.marker=M ignore.error=false
                           e.g. with parse.headers and parse.key: "h1:v1,h2:v2<TAB>key<TAB>value"

${BOOTSTRAP_HELP}
`;

const OPTIONS = {
  "topic": { type: "string" },
  "file": { type: "string" },
  "partition": { type: "string" },
  "acks": { type: "string" },
  "request-required-acks": { type: "string" },
  "compression-codec": { type: "string" },
  "compression-type": { type: "string" },
  "timeout": { type: "string" },
  "property": { type: "string", multiple: true },
} as const;

const enc = new TextEncoder();

/** Kafka's LineMessageReader, one line at a time. */
export class LineReader {
  private lineNumber = 0;
  private readonly parseKey: boolean;
  private readonly keySeparator: string;
  private readonly parseHeaders: boolean;
  private readonly headersDelimiter: string;
  private readonly headersSeparator: string;
  private readonly headersKeySeparator: string;
  private readonly ignoreError: boolean;
  private readonly nullMarker: string | undefined;

  constructor(props: Record<string, string>) {
    this.parseKey = props["parse.key"]?.toLowerCase() === "true";
    this.keySeparator = props["key.separator"] ?? "\t";
    this.parseHeaders = props["parse.headers"]?.toLowerCase() === "true";
    this.headersDelimiter = props["headers.delimiter"] ?? "\t";
    this.headersSeparator = props["headers.separator"] ?? ",";
    this.headersKeySeparator = props["headers.key.separator"] ?? ":";
    this.ignoreError = props["ignore.error"]?.toLowerCase() === "true";
    this.nullMarker = props["null.marker"];
    // The same checks as Kafka's LineMessageReader.configure.
    const distinct: [string, string | undefined, string, string | undefined][] = [
      ["headers.delimiter", this.headersDelimiter, "headers.separator", this.headersSeparator],
      [
        "headers.delimiter",
        this.headersDelimiter,
        "headers.key.separator",
        this.headersKeySeparator,
      ],
      [
        "headers.separator",
        this.headersSeparator,
        "headers.key.separator",
        this.headersKeySeparator,
      ],
      ["null.marker", this.nullMarker, "key.separator", this.keySeparator],
      ["null.marker", this.nullMarker, "headers.separator", this.headersSeparator],
      ["null.marker", this.nullMarker, "headers.delimiter", this.headersDelimiter],
      ["null.marker", this.nullMarker, "headers.key.separator", this.headersKeySeparator],
    ];
    for (const [a, av, b, bv] of distinct) {
      if (av !== undefined && av === bv) {
        throw new UsageError(`${a} and ${b} may not be equal`, "produce");
      }
    }
  }

  private part(enabled: boolean, line: string, start: number, sep: string, what: string) {
    if (!enabled) return null;
    const i = line.indexOf(sep, start);
    if (i === -1) {
      if (this.ignoreError) return null;
      throw new InputError(`No ${what} found on line number ${this.lineNumber}: '${line}'`);
    }
    return line.substring(start, i);
  }

  record(line: string): ProducerRecord {
    this.lineNumber++;
    const headers = this.part(
      this.parseHeaders,
      line,
      0,
      this.headersDelimiter,
      "headers delimiter",
    );
    const headerOffset = headers === null ? 0 : headers.length + this.headersDelimiter.length;
    const key = this.part(this.parseKey, line, headerOffset, this.keySeparator, "key separator");
    const keyOffset = key === null ? 0 : key.length + this.keySeparator.length;
    const value = line.substring(headerOffset + keyOffset);
    const rec: ProducerRecord = {
      key: key !== null && key !== this.nullMarker ? enc.encode(key) : null,
      value: value !== this.nullMarker ? enc.encode(value) : null,
      headers: [],
    };
    if (headers !== null && headers !== this.nullMarker) {
      for (const pair of headers.split(this.headersSeparator)) {
        const i = pair.indexOf(this.headersKeySeparator);
        if (i === -1) {
          if (this.ignoreError) {
            rec.headers.push({ key: pair, value: null });
            continue;
          }
          throw new InputError(
            `No header key separator found in pair '${pair}' on line number ${this.lineNumber}`,
          );
        }
        const hkey = pair.substring(0, i);
        if (hkey === this.nullMarker) {
          throw new InputError(
            `Header keys should not be equal to the null marker '${this.nullMarker}' as they can't be null`,
          );
        }
        const hv = pair.substring(i + this.headersKeySeparator.length);
        rec.headers.push({ key: hkey, value: hv === this.nullMarker ? null : enc.encode(hv) });
      }
    }
    return rec;
  }
}

function acksOf(v: string | undefined): number {
  if (v === undefined || v === "all" || v === "-1") return -1;
  if (v === "0" || v === "1") return Number(v);
  throw new UsageError(`--acks: '${v}' is not all, -1, 0 or 1`, "produce");
}

/** At most this many value bytes per produce request, under the default 1 MiB batch limit. */
const MAX_REQUEST_BYTES = 512 * 1024;

export async function produceCommand(args: string[]): Promise<number> {
  const p = parse(args, OPTIONS, "produce");
  if (flag(p, "help")) {
    await out(PRODUCE_HELP);
    return 0;
  }
  if (p.positionals.length) throw new UsageError(`unexpected argument '${p.positionals[0]}'`);
  const topic = required(p, "topic", "produce");
  const codecName = (str(p, "compression-codec") ?? str(p, "compression-type") ?? "none")
    .toLowerCase();
  const compression = COMPRESSION_CODECS[codecName];
  if (compression === undefined) {
    throw new UsageError(`unknown compression codec '${codecName}'`, "produce");
  }
  const partition = int(p, "partition", "produce");
  const reader = new LineReader(pairs(p, "property", "produce"));
  const file = str(p, "file");
  const input = file === undefined ? Deno.stdin.readable : await openFile(file);
  const client = clientFor(p);
  const producer = new Producer(client, topic, {
    acks: acksOf(str(p, "acks") ?? str(p, "request-required-acks")),
    compression,
    timeoutMs: int(p, "timeout", "produce", 30_000)!,
  });
  try {
    const decoder = new TextDecoder();
    let pending = "";
    const flush = async (lines: string[]) => {
      let batch: ProducerRecord[] = [];
      let bytes = 0;
      for (const line of lines) {
        const r = reader.record(line.endsWith("\r") ? line.slice(0, -1) : line);
        if (partition !== undefined) r.partition = partition;
        batch.push(r);
        bytes += (r.value?.length ?? 0) + (r.key?.length ?? 0) + 16;
        if (bytes >= MAX_REQUEST_BYTES) {
          await producer.send(batch);
          batch = [];
          bytes = 0;
        }
      }
      await producer.send(batch);
    };
    for await (const chunk of input) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!;
      if (lines.length) await flush(lines);
    }
    pending += decoder.decode();
    if (pending !== "") await flush([pending]);
    return 0;
  } finally {
    client.close();
  }
}

async function openFile(path: string): Promise<ReadableStream<Uint8Array>> {
  try {
    return (await Deno.open(path)).readable;
  } catch (e) {
    throw new UsageError(`cannot read --file ${path}: ${(e as Error).message}`, "produce");
  }
}
