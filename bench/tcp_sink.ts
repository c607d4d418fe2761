/**
 * Raw TCP ceilings for the end-to-end benchmark (bench/e2e.ts): the fastest this machine moves
 * the same bytes through a Deno TCP socket and the file system, with no protocol at all.
 *
 *   deno run -A bench/tcp_sink.ts --dir DIR [--timeout-s 600] [--max-conns 1000]
 *
 * Prints two lines on stdout and then serves on 127.0.0.1 until stdin closes or the timeout:
 *
 *   sink listening on 127.0.0.1:P1     every byte received is written to a fresh file in DIR;
 *                                      at EOF the byte count goes back as 8 bytes (the "ack"),
 *                                      a JSON line {"sink":bytes,"ms":..} is printed on
 *                                      stdout and the file is deleted.
 *   source listening on 127.0.0.1:P2   the client sends a file path and "\n"; that file is
 *                                      written back in 64 KiB chunks, then the socket closes.
 *
 * The client halves (64 KiB writes from a file, read-and-discard) are exported for e2e.ts.
 */
import { parseArgs } from "node:util";

export const CHUNK = 64 * 1024;

async function writeAll(w: { write(p: Uint8Array): Promise<number> }, p: Uint8Array) {
  let off = 0;
  for (let guard = 0; off < p.length && guard < 1_000_000; guard++) {
    off += await w.write(off === 0 ? p : p.subarray(off));
  }
  if (off < p.length) throw new Error("short write");
}

async function serveSink(conn: Deno.Conn, dir: string, n: number): Promise<void> {
  const started = performance.now();
  const path = `${dir}/sink-${n}.bin`;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const buf = new Uint8Array(CHUNK);
  let bytes = 0;
  try {
    // Bounded: at most 2^31 reads (far beyond any benchmark file) per connection.
    for (let i = 0; i < 0x7fffffff; i++) {
      const got = await conn.read(buf);
      if (got === null) break;
      await writeAll(file, buf.subarray(0, got));
      bytes += got;
    }
  } finally {
    file.close();
  }
  const ack = new Uint8Array(8);
  new DataView(ack.buffer).setBigUint64(0, BigInt(bytes));
  await writeAll(conn, ack);
  conn.close();
  console.log(JSON.stringify({ sink: bytes, ms: performance.now() - started }));
  await Deno.remove(path).catch(() => {});
}

async function serveSource(conn: Deno.Conn): Promise<void> {
  // Request: a path terminated by "\n" (at most 4 KiB).
  const req = new Uint8Array(4096);
  let len = 0;
  for (let guard = 0; guard < 4096 && !req.subarray(0, len).includes(10); guard++) {
    const got = await conn.read(req.subarray(len));
    if (got === null) break;
    len += got;
  }
  const nl = req.subarray(0, len).indexOf(10);
  if (nl < 0) {
    conn.close();
    return;
  }
  const path = new TextDecoder().decode(req.subarray(0, nl));
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(CHUNK);
  try {
    for (let i = 0; i < 0x7fffffff; i++) {
      const got = await file.read(buf);
      if (got === null) break;
      await writeAll(conn, buf.subarray(0, got));
    }
  } finally {
    file.close();
    conn.close();
  }
}

async function acceptLoop(
  listener: Deno.Listener,
  maxConns: number,
  handle: (c: Deno.Conn, n: number) => Promise<void>,
): Promise<void> {
  for (let n = 0; n < maxConns; n++) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch {
      return; // listener closed
    }
    handle(conn, n).catch((e) => {
      console.error(`tcp_sink: connection ${n}: ${e instanceof Error ? e.message : e}`);
      try {
        conn.close();
      } catch {
        // already closed
      }
    });
  }
}

/**
 * Closes `conn` after `ms` so any pending read or write fails; `expired()` tells whether it
 * fired.
 */
function deadline(conn: Deno.Conn, ms: number): { expired(): boolean; clear(): void } {
  let fired = false;
  const id = setTimeout(() => {
    fired = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }, ms);
  return { expired: () => fired, clear: () => clearTimeout(id) };
}

/** Client half of the produce ceiling: sends `path` in 64 KiB writes, waits for the ack. */
export async function sendFile(
  addr: { hostname: string; port: number },
  path: string,
  timeoutMs = 120_000,
): Promise<{ bytes: number; acked: number; ms: number }> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
  const timer = deadline(conn, timeoutMs);
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(CHUNK);
  let bytes = 0;
  try {
    for (let i = 0; i < 0x7fffffff; i++) {
      const got = await file.read(buf);
      if (got === null) break;
      await writeAll(conn, buf.subarray(0, got));
      bytes += got;
    }
    await conn.closeWrite();
    const ack = new Uint8Array(8);
    let have = 0;
    for (let guard = 0; have < 8 && guard < 16; guard++) {
      const got = await conn.read(ack.subarray(have));
      if (got === null) break;
      have += got;
    }
    const acked = have === 8 ? Number(new DataView(ack.buffer).getBigUint64(0)) : -1;
    return { bytes, acked, ms: performance.now() - started };
  } catch (e) {
    if (timer.expired()) throw new Error(`sendFile: no ack within ${timeoutMs} ms`);
    throw e;
  } finally {
    timer.clear();
    file.close();
    try {
      conn.close();
    } catch {
      // closed by the deadline
    }
  }
}

/** Client half of the consume ceiling: asks for `path`, reads and discards it. */
export async function receiveFile(
  addr: { hostname: string; port: number },
  path: string,
  countLines = false,
  timeoutMs = 120_000,
): Promise<{ bytes: number; lines: number; ms: number }> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: addr.hostname, port: addr.port });
  const timer = deadline(conn, timeoutMs);
  const buf = new Uint8Array(CHUNK);
  let bytes = 0;
  let lines = 0;
  try {
    await writeAll(conn, new TextEncoder().encode(path + "\n"));
    for (let i = 0; i < 0x7fffffff; i++) {
      const got = await conn.read(buf);
      if (got === null) break;
      bytes += got;
      if (countLines) lines += countNewlines(buf, got);
    }
    return { bytes, lines: countLines ? lines : -1, ms: performance.now() - started };
  } catch (e) {
    if (timer.expired()) throw new Error(`receiveFile: not done within ${timeoutMs} ms`);
    throw e;
  } finally {
    timer.clear();
    try {
      conn.close();
    } catch {
      // closed by the deadline
    }
  }
}

/** Number of "\n" bytes in buf[0, len). */
export function countNewlines(buf: Uint8Array, len: number): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0 && i < len; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      dir: { type: "string" },
      "timeout-s": { type: "string", default: "600" },
      "max-conns": { type: "string", default: "1000" },
    },
    strict: true,
  });
  if (!values.dir) {
    console.error("usage: tcp_sink.ts --dir DIR [--timeout-s S] [--max-conns N]");
    Deno.exit(2);
  }
  const dir = values.dir;
  const maxConns = Number(values["max-conns"]);
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const source = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`sink listening on 127.0.0.1:${(sink.addr as Deno.NetAddr).port}`);
  console.log(`source listening on 127.0.0.1:${(source.addr as Deno.NetAddr).port}`);
  const stop = () => {
    for (const l of [sink, source]) {
      try {
        l.close();
      } catch {
        // already closed
      }
    }
  };
  const timer = setTimeout(() => {
    console.error("tcp_sink: timeout, exiting");
    Deno.exit(3);
  }, Number(values["timeout-s"]) * 1000);
  // Exit when the parent closes our stdin (or dies).
  (async () => {
    const b = new Uint8Array(256);
    for (let i = 0; i < 1_000_000; i++) {
      const got = await Deno.stdin.read(b).catch(() => null);
      if (got === null) break;
    }
    clearTimeout(timer);
    stop();
    Deno.exit(0);
  })();
  await Promise.all([
    acceptLoop(sink, maxConns, (c, n) => serveSink(c, dir, n)),
    acceptLoop(source, maxConns, (c) => serveSource(c)),
  ]);
}

if (import.meta.main) await main();
