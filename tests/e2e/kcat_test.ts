/**
 * End to end with kcat (librdkafka): metadata, 100,000 records with keys, headers and null
 * values produced and read back exactly, and every compression codec.
 */
import assert from "node:assert/strict";
import { compression, forEachBatch } from "../../protocol/record_batch.ts";
import { decodeRecords } from "../../protocol/records.ts";
import { decoder, kcat, testBroker } from "../support/helpers.ts";

Deno.test("kcat -L lists the broker, the cluster and topics", async () => {
  const b = await testBroker();
  try {
    await kcat(b.address, ["-P", "-t", "listed", "-p", "0"], { stdin: "x\n" });
    const out = decoder.decode(await kcat(b.address, ["-L", "-J"]));
    const md = JSON.parse(out);
    assert.equal(md.brokers.length, 1);
    assert.equal(md.brokers[0].name, b.address);
    const t = md.topics.find((t: { topic: string }) => t.topic === "listed");
    assert.ok(t, out);
    assert.equal(t.partitions.length, 1);
    assert.equal(t.partitions[0].leader, md.brokers[0].id);
  } finally {
    await b.stop();
  }
});

Deno.test("kcat produces 100,000 records and reads them back exactly", async () => {
  const b = await testBroker();
  try {
    const n = 100_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(`key-${i}\tvalue-${i}-${"x".repeat(i % 50)}`);
    await kcat(b.address, ["-P", "-t", "bulk", "-K", "\t", "-p", "0", "-X", "linger.ms=5"], {
      stdin: lines.join("\n") + "\n",
      timeoutMs: 120_000,
    });
    const out = decoder.decode(
      await kcat(b.address, [
        "-C",
        "-t",
        "bulk",
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o\t%k\t%s\n",
      ], {
        timeoutMs: 120_000,
      }),
    );
    const got = out.split("\n").filter((l) => l);
    assert.equal(got.length, n);
    for (let i = 0; i < n; i++) {
      assert.equal(got[i], `${i}\t${lines[i]}`, `record ${i}`);
    }
  } finally {
    await b.stop();
  }
});

Deno.test("kcat headers, null values and empty keys survive the round trip", async () => {
  const b = await testBroker();
  try {
    await kcat(b.address, ["-P", "-t", "hdr", "-p", "0", "-H", "h1=v1", "-H", "h2=", "-K", ":"], {
      stdin: "k1:with-headers\n",
    });
    // -Z sends empty values as NULL.
    await kcat(b.address, ["-P", "-t", "hdr", "-p", "0", "-Z", "-K", ":"], { stdin: "k2:\n" });
    const out = decoder.decode(
      await kcat(b.address, [
        "-C",
        "-t",
        "hdr",
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o|%k|%S|%h\n",
      ]),
    );
    assert.equal(out, "0|k1|12|h1=v1,h2=\n1|k2|-1|\n");
  } finally {
    await b.stop();
  }
});

for (const codec of ["none", "gzip", "snappy", "lz4", "zstd"]) {
  Deno.test(`kcat produces and consumes with compression ${codec}`, async () => {
    const b = await testBroker();
    try {
      const n = 2000;
      const lines = Array.from({ length: n }, (_, i) => `${codec}-${i}-${"abc".repeat(i % 20)}`);
      await kcat(b.address, [
        "-P",
        "-t",
        `c-${codec}`,
        "-p",
        "0",
        "-z",
        codec,
        "-X",
        "linger.ms=20",
      ], {
        stdin: lines.join("\n") + "\n",
      });
      const out = decoder.decode(
        await kcat(b.address, [
          "-C",
          "-t",
          `c-${codec}`,
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%s\n",
        ]),
      );
      assert.deepEqual(out.split("\n").filter((l) => l), lines);
      // The batches are stored as the producer compressed them. librdkafka sends a batch
      // uncompressed when compression would not shrink it (a small one), so each stored
      // batch carries the codec or none, some carry the codec, and together they hold every
      // record, in order, at consecutive offsets.
      const seg = await Deno.readFile(`${b.dataDir}/c-${codec}-0/00000000000000000000.log`);
      const ids: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
      const codecs: number[] = [];
      const stored: string[] = [];
      const end = forEachBatch(seg, (pos, h) => {
        codecs.push(compression(h));
        assert.equal(h.baseOffset, stored.length, "batch base offset");
        const { records } = decodeRecords(seg.subarray(pos));
        assert.equal(records.length, h.recordCount);
        for (const r of records) stored.push(decoder.decode(r.value!));
      });
      assert.equal(end, seg.length, "the segment holds whole batches only");
      assert.deepEqual([...new Set(codecs)].filter((c) => c !== 0 && c !== ids[codec]), []);
      assert.ok(codecs.includes(ids[codec]), `codecs of the stored batches: ${codecs}`);
      assert.deepEqual(stored, lines);
    } finally {
      await b.stop();
    }
  });
}
