/**
 * Robustness at the wire: hostile and broken connections (garbage, huge or truncated frames,
 * unknown APIs and versions, malformed bodies) must cost only their own connection while a
 * healthy client keeps producing and fetching exact data; pipelining, acks=0, and the
 * per-partition produce/fetch errors a client relies on. Requests are built and responses
 * parsed with the project's own codec.
 */
import assert from "node:assert/strict";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { Writer } from "../../protocol/primitives.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import { isFlexible } from "../../protocol/schema.ts";
import type { Msg } from "../support/msg.ts";
import { decoder, kcat, testBroker } from "../support/helpers.ts";
import {
  fetchPartition,
  frame,
  parseResponse,
  produce,
  RawClient,
  rawFrame,
  text,
} from "../support/e2e_robustness_fixtures.ts";
import { waitFor } from "../support/wait.ts";

type Started = Awaited<ReturnType<typeof testBroker>>;

/** Produces one record on the healthy connection and reads it back exactly. */
async function healthyRoundTrip(
  h: RawClient,
  topic: string,
  expectedOffset: number,
  value: string,
) {
  const batch = encodeRecordBatch({
    records: [{ key: `k${expectedOffset}`, value, headers: [{ key: "case", value }] }],
  });
  const p = await produce(h, topic, 0, batch);
  assert.equal(p.errorCode, 0, `produce after ${value}`);
  assert.equal(p.baseOffset, expectedOffset);
  const f = await fetchPartition(h, topic, 0, expectedOffset);
  assert.equal(f.errorCode, 0);
  assert.equal(f.highWatermark, expectedOffset + 1);
  const { header, records } = decodeRecords(f.records);
  assert.equal(header.baseOffset, expectedOffset);
  assert.equal(records.length, 1);
  assert.equal(text(records[0].key), `k${expectedOffset}`);
  assert.equal(text(records[0].value), value);
  assert.deepEqual(records[0].headers.map((x) => [x.key, text(x.value)]), [["case", value]]);
}

/** A fresh connection answers ApiVersions v3 with the broker's API list. */
async function newConnectionWorks(b: Started): Promise<void> {
  const c = await RawClient.connect(b.port);
  try {
    const r = await c.request(ApiVersionsRequest, ApiVersionsResponse, 3, {
      clientSoftwareName: "raw",
      clientSoftwareVersion: "1",
    });
    assert.equal(r.errorCode, 0);
    assert.deepEqual(
      r.apiKeys.map((k: Msg) => [k.apiKey, k.minVersion, k.maxVersion]),
      b.broker.registry.apiVersions().map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
    );
  } finally {
    c.close();
  }
}

/** Waits until the broker tracks exactly `n` connections. */
async function connectionsSettle(b: Started, n: number): Promise<void> {
  await waitFor(
    () => `broker to hold ${n} connections (holds ${b.broker.connections.size})`,
    () => b.broker.connections.size === n,
    { intervalMs: 10 },
  );
}

/** Deterministic pseudo-random bytes (xorshift32). */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

Deno.test(
  "hostile connections are closed alone; the healthy client and new ones keep working",
  async () => {
    const b = await testBroker();
    const h = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("healthy", 1);
      let offset = 0;
      await healthyRoundTrip(h, "healthy", offset++, "before");
      await connectionsSettle(b, 1);
      // This isolate's heap and ArrayBuffer memory: `deno test --parallel` runs other test
      // modules in the same process, so the process RSS moves with them.
      const isolateMemory = () => {
        const m = Deno.memoryUsage();
        return m.heapUsed + m.external;
      };
      const memBefore = isolateMemory();

      const cases: { name: string; run: (c: RawClient) => Promise<void> }[] = [
        {
          name: "random garbage",
          run: async (c) => {
            const g = pseudoRandom(4096, 0x5eed);
            g[0] |= 0x80; // a negative frame size
            await c.write(g);
            await c.expectClosed();
          },
        },
        {
          name: "garbage in a well-sized frame",
          run: async (c) => {
            const g = pseudoRandom(1004, 0xbeef);
            new DataView(g.buffer).setInt32(0, 1000);
            new DataView(g.buffer).setInt16(4, -7); // no such api key
            await c.write(g);
            await c.expectClosed();
          },
        },
        {
          name: "huge length prefix 0x7fffffff",
          run: async (c) => {
            // Only the prefix and a few bytes: the broker must refuse from the prefix alone.
            await c.write(new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 3]));
            await c.expectClosed();
          },
        },
        {
          name: "length prefix one above socket.request.max.bytes",
          run: async (c) => {
            const f = new Uint8Array(8);
            new DataView(f.buffer).setInt32(0, 104857600 + 1);
            await c.write(f);
            await c.expectClosed();
          },
        },
        {
          name: "truncated request, then the client closes",
          run: async (c) => {
            const f = frame(MetadataRequest, 1, 1, { topics: null });
            await c.write(f.subarray(0, f.length - 3));
            c.close();
          },
        },
        {
          name: "empty frame (size 0)",
          run: async (c) => {
            await c.write(new Uint8Array([0, 0, 0, 0]));
            await c.expectClosed();
          },
        },
        {
          name: "frame shorter than a request header",
          run: async (c) => {
            await c.write(new Uint8Array([0, 0, 0, 3, 0, 18, 0]));
            await c.expectClosed();
          },
        },
        {
          name: "a valid request written one byte at a time",
          run: async (c) => {
            const f = frame(ApiVersionsRequest, 3, 4242, {
              clientSoftwareName: "slow",
              clientSoftwareVersion: "1",
            });
            for (let i = 0; i < f.length; i++) {
              await c.write(f.subarray(i, i + 1));
              if (i % 8 === 0) await new Promise((r) => setTimeout(r, 1));
            }
            const r = parseResponse(await c.readFrame(), ApiVersionsResponse, 3, 4242);
            assert.equal(r.errorCode, 0);
          },
        },
        {
          name: "unknown api key 999",
          run: async (c) => {
            await c.write(rawFrame(999, 0, 7, new Uint8Array(0)));
            await c.expectClosed();
          },
        },
        {
          name: "Produce v99",
          run: async (c) => {
            await c.write(rawFrame(0, 99, 8, new Uint8Array(16)));
            await c.expectClosed();
          },
        },
        {
          name: "Fetch v18 (above the supported range)",
          run: async (c) => {
            await c.write(rawFrame(1, 18, 8, new Uint8Array(16)));
            await c.expectClosed();
          },
        },
        {
          name: "Metadata v1 claiming 5 topics with no bytes for them",
          run: async (c) => {
            await c.write(rawFrame(3, 1, 9, new Uint8Array([0, 0, 0, 5])));
            await c.expectClosed();
          },
        },
        {
          name: "Produce v9 whose records overrun the frame",
          run: async (c) => {
            const body = new Writer();
            body.compactNullableString(null); // transactional id
            body.int16(-1);
            body.int32(1000);
            body.uvarint(2); // one topic
            body.compactString("healthy");
            body.uvarint(2); // one partition
            body.int32(0);
            body.uvarint(1_000_000); // records: far more bytes than follow
            body.raw(new Uint8Array(20));
            await c.write(rawFrame(0, 9, 10, body.finishCopy(), true));
            await c.expectClosed();
          },
        },
        {
          // As Kafka: bytes after the last field are ignored.
          name: "Metadata v1 with trailing bytes",
          run: async (c) => {
            await c.write(rawFrame(3, 1, 11, new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])));
            const r = parseResponse(await c.readFrame(), MetadataResponse, 1, 11);
            assert.deepEqual(r.topics.map((t: Msg) => [t.errorCode, t.name]), [[0, "healthy"]]);
          },
        },
      ];

      for (const tc of cases) {
        const c = await RawClient.connect(b.port);
        try {
          await tc.run(c);
        } catch (e) {
          throw new Error(`${tc.name}: ${e instanceof Error ? e.message : e}`);
        } finally {
          c.close();
        }
        await connectionsSettle(b, 1);
        await healthyRoundTrip(h, "healthy", offset++, `after ${tc.name}`);
        await newConnectionWorks(b);
      }

      // Random bodies behind valid headers of every served API but ApiVersions (which tolerates
      // trailing bytes by design): each is rejected by closing that connection.
      for (const api of b.broker.registry.apiVersions()) {
        if (api.apiKey === 18) continue;
        for (const seed of [1, 2, 3]) {
          const c = await RawClient.connect(b.port);
          try {
            const schema = b.broker.registry.get(api.apiKey)!.request;
            const flexible = isFlexible(schema, api.maxVersion);
            await c.write(
              rawFrame(
                api.apiKey,
                api.maxVersion,
                seed,
                pseudoRandom(300, seed * 7919 + api.apiKey),
                flexible,
              ),
            );
            await c.expectClosed();
          } catch (e) {
            throw new Error(
              `${api.name} v${api.maxVersion} seed ${seed}: ${e instanceof Error ? e.message : e}`,
            );
          } finally {
            c.close();
          }
        }
      }
      await connectionsSettle(b, 1);
      await healthyRoundTrip(h, "healthy", offset++, "after fuzzed bodies");
      await newConnectionWorks(b);

      const grown = isolateMemory() - memBefore;
      assert.ok(grown < 64 * 1024 * 1024, `heap + buffers grew by ${grown} bytes`);

      // kcat sees every healthy record, in order.
      const out = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          "healthy",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o %s\n",
        ]),
      );
      const values = ["before", ...cases.map((c) => `after ${c.name}`), "after fuzzed bodies"];
      assert.equal(out, values.map((v, i) => `${i} ${v}\n`).join(""));
    } finally {
      h.close();
      await b.stop();
    }
  },
);
