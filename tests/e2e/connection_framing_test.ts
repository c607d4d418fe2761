/**
 * Request framing over a real socket: the int32 size prefix, frames split across reads or
 * sharing one, the `socket.request.max.bytes` bound (checked from the prefix alone), and a
 * peer that closes mid-frame. Bytes go over Deno.connect to an in-process broker, so the test
 * holds whatever code sits between the socket and the request handlers to the wire format.
 */
import assert from "node:assert/strict";
import { testBroker } from "../support/helpers.ts";
import { SAFETY_TIMEOUT_MS } from "../support/wait.ts";

const MAX = 1024;

/** An ApiVersions v0 request frame, padded with ignored trailing bytes to `size` if given. */
function apiVersions(correlationId: number, size?: number): Uint8Array {
  const clientId = new TextEncoder().encode("framing");
  const body = 2 + 2 + 4 + 2 + clientId.length;
  const len = size ?? body;
  assert.ok(len >= body);
  const f = new Uint8Array(4 + len);
  const v = new DataView(f.buffer);
  v.setInt32(0, len);
  v.setInt16(4, 18); // ApiVersions
  v.setInt16(6, 0);
  v.setInt32(8, correlationId);
  v.setInt16(12, clientId.length);
  f.set(clientId, 14);
  return f;
}

class Socket {
  private buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.TcpConn) {}
  static async open(port: number): Promise<Socket> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.setNoDelay(true);
    return new Socket(conn);
  }
  async write(b: Uint8Array): Promise<void> {
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }
  /** Reads, failing instead of hanging if the broker neither answers nor closes. */
  private async read(): Promise<Uint8Array | null> {
    const chunk = new Uint8Array(65536);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error("broker neither answered nor closed")),
        SAFETY_TIMEOUT_MS,
      );
    });
    try {
      const n = await Promise.race([this.conn.read(chunk), timeout]);
      return n === null ? null : chunk.subarray(0, n);
    } catch (e) {
      if (e instanceof Deno.errors.ConnectionReset) return null;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
  /** The correlation id of the next response frame. */
  async response(): Promise<number> {
    while (this.buf.length < 4 || this.buf.length < 4 + this.size()) {
      const more = await this.read();
      if (more === null) throw new Error("closed by the broker");
      const next = new Uint8Array(this.buf.length + more.length);
      next.set(this.buf);
      next.set(more, this.buf.length);
      this.buf = next;
    }
    const frame = this.buf.subarray(4, 4 + this.size());
    this.buf = this.buf.slice(4 + this.size());
    const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    assert.equal(v.getInt16(4), 0, "ApiVersions error code");
    return v.getInt32(0);
  }
  private size(): number {
    return new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0);
  }
  /** Resolves once the broker has closed the connection, with no response before that. */
  async closedByBroker(): Promise<void> {
    const got = await this.read();
    assert.equal(got, null, `expected the connection closed, got ${got?.length} bytes`);
  }
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

async function withBroker(fn: (port: number) => Promise<void>): Promise<void> {
  const b = await testBroker({ config: { "socket.request.max.bytes": MAX } });
  try {
    await fn(b.port);
  } finally {
    await b.stop();
  }
}

async function withSocket(port: number, fn: (s: Socket) => Promise<void>): Promise<void> {
  const s = await Socket.open(port);
  try {
    await fn(s);
  } finally {
    s.close();
  }
}

Deno.test("framing: a frame split across reads at every kind of boundary", async () => {
  await withBroker(async (port) => {
    const f = apiVersions(1);
    // Inside the size prefix, right after it, inside the header, before the last byte.
    for (const cut of [1, 2, 4, 6, f.length - 1]) {
      await withSocket(port, async (s) => {
        await s.write(f.subarray(0, cut));
        await new Promise((r) => setTimeout(r, 5));
        await s.write(f.subarray(cut));
        assert.equal(await s.response(), 1, `cut at ${cut}`);
      });
    }
  });
});

Deno.test("framing: several frames in one write, one straddling the next write", async () => {
  await withBroker(async (port) => {
    await withSocket(port, async (s) => {
      const frames = [apiVersions(10), apiVersions(11), apiVersions(12, 500), apiVersions(13)];
      const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let off = 0;
      for (const f of frames) {
        all.set(f, off);
        off += f.length;
      }
      const cut = frames[0].length + frames[1].length + 100; // inside the third frame
      await s.write(all.subarray(0, cut));
      assert.equal(await s.response(), 10);
      assert.equal(await s.response(), 11);
      await s.write(all.subarray(cut));
      assert.equal(await s.response(), 12);
      assert.equal(await s.response(), 13);
    });
  });
});

Deno.test("framing: a frame of exactly socket.request.max.bytes is served", async () => {
  await withBroker(async (port) => {
    await withSocket(port, async (s) => {
      await s.write(apiVersions(7, MAX));
      assert.equal(await s.response(), 7);
    });
  });
});

Deno.test("framing: a size prefix above the bound closes from the prefix alone", async () => {
  await withBroker(async (port) => {
    for (const size of [MAX + 1, 0x7fffffff, -1, -0x80000000]) {
      await withSocket(port, async (s) => {
        const prefix = new Uint8Array(4);
        new DataView(prefix.buffer).setInt32(0, size);
        await s.write(prefix);
        await s.closedByBroker();
      });
    }
    // The broker still serves new connections.
    await withSocket(port, async (s) => {
      await s.write(apiVersions(2));
      assert.equal(await s.response(), 2);
    });
  });
});

Deno.test("framing: a peer closing mid-frame is let go; the broker carries on", async () => {
  await withBroker(async (port) => {
    const f = apiVersions(3);
    // Mid size prefix, right after it, mid body; after a served request, mid the next.
    for (const [before, cut] of [[false, 2], [false, 4], [false, 9], [true, 9]] as const) {
      await withSocket(port, async (s) => {
        if (before) {
          await s.write(apiVersions(4));
          assert.equal(await s.response(), 4);
        }
        await s.write(f.subarray(0, cut));
        await s.conn.closeWrite();
        await s.closedByBroker();
      });
    }
    await withSocket(port, async (s) => {
      await s.write(apiVersions(5));
      assert.equal(await s.response(), 5);
    });
  });
});
