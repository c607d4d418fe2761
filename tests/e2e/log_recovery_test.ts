/**
 * Recovery says what it drops: segment files damaged on disk (a closed segment cut short in
 * the middle of the log, a flipped CRC byte, a torn active segment), the exact offsets the log
 * keeps, the WARN lines logged; reads that meet damage answer CORRUPT_MESSAGE or
 * KAFKA_STORAGE_ERROR; a segment roll that fails answers KAFKA_STORAGE_ERROR.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  type BatchHeader,
  forEachBatch,
  setBaseOffset,
  totalSize,
} from "../../protocol/record_batch.ts";
import { decodeRecords, encodeRecordBatch } from "../../protocol/records.ts";
import {
  CreateTopicsRequest,
  CreateTopicsResponse,
  FetchRequest,
  FetchResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import { setLogLevel, setLogSink } from "../../src/log.ts";
import { type LogConfig, logConfig } from "../../storage/log_config.ts";
import { segmentFileName } from "../../storage/log_segment.ts";
import { CLEAN_SHUTDOWN_FILE, PartitionLog } from "../../storage/partition_log.ts";
import { BrokerProcess, decoder, kcat } from "../support/helpers.ts";
import { fetchBody } from "../support/e2e_robustness_fixtures.ts";
import { RawClient } from "../support/raw_client.ts";

/** A batch of `n` records "<tag>-i" padded to 12 bytes. */
function batch(n: number, tag: string): Uint8Array {
  return encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      value: `${tag}-${i}`.padEnd(12, "."),
      timestamp: 1_000_000 + i,
    })),
  });
}

function values(buf: Uint8Array): string[] {
  const out: string[] = [];
  forEachBatch(buf, (pos, h) => {
    for (const r of decodeRecords(buf.subarray(pos, pos + totalSize(h))).records) {
      out.push(new TextDecoder().decode(r.value!).replace(/\.+$/, ""));
    }
  });
  return out;
}

/** Positions and headers of the batches in a segment file. */
function batchesOf(bytes: Uint8Array): { position: number; header: BatchHeader }[] {
  const out: { position: number; header: BatchHeader }[] = [];
  forEachBatch(bytes, (position, header) => void out.push({ position, header }));
  return out;
}

/** Log lines ("WARN message") emitted while `fn` runs. */
async function logged(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  setLogLevel("info");
  setLogSink((level, msg) => lines.push(`${level.toUpperCase()} ${msg}`));
  try {
    await fn();
  } finally {
    setLogSink(null);
  }
  return lines;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "log-recovery-" });
  try {
    await fn(`${root}/t-0`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A log of `batches` batches of 10 records ("b<i>-<j>"), closed cleanly. */
async function writeLog(dir: string, cfg: LogConfig, batches: number): Promise<number[]> {
  const log = await PartitionLog.open(dir, cfg);
  for (let i = 0; i < batches; i++) await log.append(batch(10, `b${i}`));
  const bases = log.segmentBaseOffsets();
  await log.close();
  return bases;
}

const SEGMENTED = logConfig({ segmentBytes: 1200, indexIntervalBytes: 64 });

Deno.test("a closed segment cut short mid-batch ends the log there, with every drop logged", async () => {
  await withDir(async (dir) => {
    const bases = await writeLog(dir, SEGMENTED, 40);
    assert.ok(bases.length >= 5, `segments ${bases}`);
    const path = (base: number) => `${dir}/${segmentFileName(base, ".log")}`;
    const files = bases.map((b) => Deno.readFileSync(path(b)));
    const damaged = batchesOf(files[1]);
    assert.ok(damaged.length >= 3);
    const cut = damaged[1].position + 70; // the header of the second batch survives
    Deno.truncateSync(path(bases[1]), cut);
    const end = damaged[1].header.baseOffset;

    let log!: PartitionLog;
    const lines = await logged(async () => {
      log = await PartitionLog.open(dir, SEGMENTED);
    });
    // The log ends at the last whole batch before the damage: contiguous offsets, LEO = HW.
    assert.equal(log.logEndOffset, end);
    assert.equal(log.highWatermark, end);
    assert.deepEqual(log.segmentBaseOffsets(), [bases[0], bases[1]]);
    assert.equal(log.recovery.deletedSegments, bases.length - 2);
    assert.equal(log.recovery.truncatedBytes, 70);

    // What was dropped, file by file, as the headers tell it.
    const name = (b: number) => segmentFileName(b, ".log");
    const later = files.slice(2).map(batchesOf);
    const laterBytes = files.slice(2).reduce((n, f) => n + f.length, 0);
    const laterBatches = later.reduce((n, bs) => n + bs.length, 0);
    const pos = damaged[1].position;
    const expected = [
      `WARN Truncated ${
        path(bases[1])
      } at position ${pos} (torn batch at ${pos}): dropped 70 bytes: 1 batch, 10 records, offsets ${end}..${
        end + 9
      } by their headers; the segment now ends before offset ${end}`,
      ...later.map((bs, i) =>
        `WARN t-0: deleting ${name(bases[i + 2])} (${
          files[i + 2].length
        } bytes: ${bs.length} batches, ${bs.length * 10} records, offsets ${bases[i + 2]}..${
          bs[bs.length - 1].header.baseOffset + 9
        } by their headers): the log ends in the truncated ${
          name(bases[1])
        }, and offsets stay contiguous`
      ),
      `WARN t-0: recovery dropped ${70 + laterBytes} bytes: ${1 + laterBatches} batches, ${
        10 + laterBatches * 10
      } records, offsets ${end}..399 by their headers in ${
        bases.length - 1
      } segments; log end offset now ${end}`,
    ];
    assert.match(
      lines[0],
      new RegExp(`^WARN t-0: closed segment ${name(bases[1])} is damaged \\(`),
    );
    assert.deepEqual(lines.slice(1), expected);

    await assert.rejects(
      log.read(end + 1, 1 << 20),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE,
    );
    assert.deepEqual(values(await log.read(end - 10, 1 << 20)), [
      ...Array.from({ length: 10 }, (_, j) => `b${end / 10 - 1}-${j}`),
    ]);
    assert.equal((await log.append(batch(10, "after"))).baseOffset, end);
    await log.close();
    for (const b of bases.slice(2)) {
      if (b !== end) assert.throws(() => Deno.statSync(path(b)), Deno.errors.NotFound);
    }

    // Reopened, nothing is left to repair and nothing is logged.
    let again!: PartitionLog;
    assert.deepEqual(
      await logged(async () => {
        again = await PartitionLog.open(dir, SEGMENTED);
      }),
      [],
    );
    assert.equal(again.logEndOffset, end + 10);
    assert.equal(values(await again.read(0, 1 << 20))[0], "b0-0");
    await again.close();
  });
});

Deno.test("a closed segment cut at a batch boundary lost its end all the same", async () => {
  await withDir(async (dir) => {
    const bases = await writeLog(dir, SEGMENTED, 40);
    const path = (base: number) => `${dir}/${segmentFileName(base, ".log")}`;
    const files = bases.map((b) => Deno.readFileSync(path(b)));
    const bs = batchesOf(files[1]);
    Deno.truncateSync(path(bases[1]), bs[2].position); // two whole batches stay
    const end = bs[2].header.baseOffset;
    const indexed = bs[bs.length - 1].header.baseOffset + 9; // an index entry per batch

    let log!: PartitionLog;
    const lines = await logged(async () => {
      log = await PartitionLog.open(dir, SEGMENTED);
    });
    assert.equal(log.logEndOffset, end);
    assert.deepEqual(log.segmentBaseOffsets(), [bases[0], bases[1]]);
    assert.equal(log.recovery.truncatedBytes, 0);
    assert.equal(log.recovery.deletedSegments, bases.length - 2);
    const name = segmentFileName(bases[1], ".log");
    assert.deepEqual(lines.slice(0, 2), [
      `WARN t-0: closed segment ${name} is damaged (its last index entry (offset ${indexed}, position ${
        bs[bs.length - 1].position
      }) lies past the end of the log (${bs[2].position} bytes)): checking it`,
      `WARN t-0: ${name} ends before offset ${end} but its index named offset ${indexed}: the end of the segment was lost`,
    ]);
    assert.equal(lines.length, 2 + bases.length - 2 + 1);
    const laterBytes = files.slice(2).reduce((n, f) => n + f.length, 0);
    const laterBatches = files.slice(2).reduce((n, f) => n + batchesOf(f).length, 0);
    assert.equal(
      lines[lines.length - 1],
      `WARN t-0: recovery dropped ${laterBytes} bytes: ${laterBatches} batches, ${
        laterBatches * 10
      } records, offsets ${bases[2]}..399 by their headers in ${
        bases.length - 2
      } segments; log end offset now ${end}`,
    );
    assert.equal((await log.append(batch(10, "after"))).baseOffset, end);
    await log.close();
  });
});

Deno.test("a flipped CRC byte in the active segment truncates from that batch, logged with counts", async () => {
  await withDir(async (dir) => {
    const cfg = logConfig({ indexIntervalBytes: 256 });
    const log = await PartitionLog.open(dir, cfg);
    for (let i = 0; i < 10; i++) {
      await log.append(encodeRecordBatch({
        records: Array.from({ length: 50 }, (_, j) => ({ value: `c${i}-${j}`, timestamp: j })),
      }));
    }
    await log.close();
    Deno.removeSync(`${dir}/${CLEAN_SHUTDOWN_FILE}`); // as after a crash
    const path = `${dir}/${segmentFileName(0, ".log")}`;
    const bytes = Deno.readFileSync(path);
    const bs = batchesOf(bytes);
    const pos = bs[1].position;
    bytes[pos + 17] ^= 0x01; // the CRC field of the batch at offset 50
    Deno.writeFileSync(path, bytes);

    let again!: PartitionLog;
    const lines = await logged(async () => {
      again = await PartitionLog.open(dir, cfg);
    });
    const dropped = bytes.length - pos;
    assert.deepEqual(lines, [
      `INFO t-0: unclean shutdown: checking every batch of ${segmentFileName(0, ".log")}`,
      `WARN Truncated ${path} at position ${pos} (CRC mismatch at ${pos}): dropped ${dropped} bytes: 9 batches, 450 records, offsets 50..499 by their headers; the segment now ends before offset 50`,
      `WARN t-0: recovery dropped ${dropped} bytes: 9 batches, 450 records, offsets 50..499 by their headers; log end offset now 50`,
    ]);
    assert.equal(again.logEndOffset, 50);
    assert.equal(again.highWatermark, 50);
    assert.equal(Deno.statSync(path).size, pos);
    assert.equal((await again.append(batch(1, "next"))).baseOffset, 50);
    await again.close();
  });
});

Deno.test("a torn active segment is truncated with a WARN, after a clean or an unclean shutdown", async () => {
  for (const clean of [false, true]) {
    await withDir(async (dir) => {
      await writeLog(dir, logConfig({ indexIntervalBytes: 64 }), 10);
      if (!clean) Deno.removeSync(`${dir}/${CLEAN_SHUTDOWN_FILE}`);
      const path = `${dir}/${segmentFileName(0, ".log")}`;
      const size = Deno.statSync(path).size;
      // A write cut short: the header of the batch at offset 100 made it, its records not all.
      const torn = batch(10, "torn");
      setBaseOffset(torn, 0, 100);
      const half = torn.subarray(0, torn.length >> 1);
      Deno.writeFileSync(path, half, { append: true });

      let again!: PartitionLog;
      const lines = await logged(async () => {
        again = await PartitionLog.open(dir, logConfig({ indexIntervalBytes: 64 }));
      });
      const drop = `${half.length} bytes: 1 batch, 10 records, offsets 100..109 by their headers`;
      assert.deepEqual(lines, [
        clean
          ? `WARN Truncated ${path} at position ${size} (torn batch at ${size}): dropped ${drop}; the segment now ends before offset 100`
          : `INFO t-0: unclean shutdown: checking every batch of ${segmentFileName(0, ".log")}`,
        ...(clean ? [] : [
          `WARN Truncated ${path} at position ${size} (torn batch at ${size}): dropped ${drop}; the segment now ends before offset 100`,
        ]),
        ...(clean
          ? [
            `WARN t-0: after a clean shutdown ${
              segmentFileName(0, ".log")
            } was checked batch by batch: its end is damaged (torn batch at ${size})`,
          ]
          : []),
        `WARN t-0: recovery dropped ${drop}; log end offset now 100`,
      ]);
      assert.equal(again.recovery.truncatedBytes, half.length);
      assert.equal(again.logEndOffset, 100);
      assert.equal(Deno.statSync(path).size, size);
      await again.close();
    });
  }
});

Deno.test("a read that meets a damaged batch answers CORRUPT_MESSAGE and logs it once", async () => {
  await withDir(async (dir) => {
    const bases = await writeLog(dir, SEGMENTED, 40);
    const path = `${dir}/${segmentFileName(bases[1], ".log")}`;
    const bytes = Deno.readFileSync(path);
    const bs = batchesOf(bytes);
    // The second batch's length field says 5 bytes; the segment's end is intact.
    new DataView(bytes.buffer).setInt32(bs[1].position + 8, 5);
    Deno.writeFileSync(path, bytes);

    let log!: PartitionLog;
    assert.deepEqual(
      await logged(async () => {
        log = await PartitionLog.open(dir, SEGMENTED);
      }),
      [],
    );
    assert.equal(log.logEndOffset, 400);
    const at = bs[1].header.baseOffset;
    const lines = await logged(async () => {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(
          log.read(at, 1 << 20),
          (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.CORRUPT_MESSAGE,
        );
      }
    });
    assert.deepEqual(lines, [
      `ERROR t-0: read at offset ${at} answers CORRUPT_MESSAGE: corrupt segment ${path}: batch length 5 at position ${
        bs[1].position
      }`,
    ]);
    // The batch before the damage is served alone; the segments after it are untouched.
    assert.deepEqual(
      values(await log.read(at - 10, 1 << 20)),
      Array.from({ length: 10 }, (_, j) => `b${at / 10 - 1}-${j}`),
    );
    assert.equal(values(await log.read(bases[2], 1 << 20))[0], `b${bases[2] / 10}-0`);
    await log.close();
  });
});

Deno.test("a segment file cut short under a running log: reads answer KAFKA_STORAGE_ERROR", async () => {
  await withDir(async (dir) => {
    const log = await PartitionLog.open(dir, SEGMENTED);
    for (let i = 0; i < 12; i++) await log.append(batch(10, `b${i}`));
    const path = `${dir}/${segmentFileName(0, ".log")}`;
    const bs = batchesOf(Deno.readFileSync(path));
    Deno.truncateSync(path, bs[1].position + 70);
    const lines = await logged(async () => {
      await assert.rejects(
        log.read(0, 1 << 20),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR,
      );
    });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^ERROR t-0: read at offset 0 answers KAFKA_STORAGE_ERROR: read \d+ of \d+ bytes at position 0 of .*00000000000000000000\.log \(\d+ bytes appended\): the file was cut short$/,
    );
    assert.equal((await log.read(100, 1 << 20)).length > 0, true, "other segments still read");
    await log.close();
  });
});

Deno.test("an index rebuilt while serving never cuts a closed segment: the damage is an error", async () => {
  await withDir(async (dir) => {
    await writeLog(dir, SEGMENTED, 40);
    const log = await PartitionLog.open(dir, SEGMENTED);
    const base = log.segmentBaseOffsets()[1];
    const path = `${dir}/${segmentFileName(base, ".log")}`;
    const bytes = Deno.readFileSync(path);
    const bs = batchesOf(bytes);
    // While the log is open: a batch length goes bad and the index file goes missing, so the
    // first read of the segment rebuilds its index from the log.
    new DataView(bytes.buffer).setInt32(bs[1].position + 8, 5);
    Deno.writeFileSync(path, bytes);
    Deno.removeSync(`${dir}/${segmentFileName(base, ".index")}`);
    const at = bs[2].header.baseOffset;
    const lines = await logged(async () => {
      await assert.rejects(
        log.read(at, 1 << 20),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.CORRUPT_MESSAGE,
      );
    });
    assert.deepEqual(lines, [
      `WARN Indexed ${path} up to position ${
        bs[1].position
      } of ${bytes.length} (batch length 5 at ${
        bs[1].position
      }): reads past it answer CORRUPT_MESSAGE`,
      `ERROR t-0: read at offset ${at} answers CORRUPT_MESSAGE: corrupt segment ${path}: batch length 5 at position ${
        bs[1].position
      }`,
    ]);
    assert.equal(Deno.statSync(path).size, bytes.length, "the segment keeps every byte");
    assert.equal(log.logEndOffset, 400);
    await log.close();
  });
});

// ------------------------------------------------------------------ end to end

async function produce(c: RawClient, topic: string, records: Uint8Array): Promise<Msg> {
  const r = await c.call(ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  return (r.responses as Msg[])[0].partitionResponses[0];
}

/** Creates single-partition topics (segment.bytes from the broker's log.segment.bytes). */
async function createTopics(c: RawClient, names: string[]): Promise<void> {
  const r = await c.call(CreateTopicsRequest, CreateTopicsResponse, 5, {
    topics: names.map((name) => ({
      name,
      numPartitions: 1,
      replicationFactor: 1,
      assignments: [],
      configs: [],
    })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  for (const t of r.topics as Msg[]) assert.equal(t.errorCode, 0, `create ${t.name}`);
}

async function fetchAt(c: RawClient, topic: string, offset: number): Promise<Msg> {
  const f = await c.call(FetchRequest, FetchResponse, 11, fetchBody(topic, 0, offset));
  return (f.responses as Msg[])[0].partitions[0];
}

Deno.test(
  "e2e (2 workers): a closed segment cut short ends the log after a restart; a damaged batch answers CORRUPT_MESSAGE",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-recovery-" });
    // An index entry per batch: the damaged batch lies before the last one, where the check
    // of a closed segment's end at start-up does not look, so only a read meets it.
    const flags = ["--set", "log.segment.bytes=1200", "--set", "log.index.interval.bytes=64"];
    let broker: BrokerProcess | null = await BrokerProcess.start(dataDir, flags);
    try {
      const c = await RawClient.connect(broker.port);
      await createTopics(c, ["cut", "damaged"]);
      for (const topic of ["cut", "damaged"]) {
        for (let i = 0; i < 40; i++) {
          const r = await produce(c, topic, batch(10, `b${i}`));
          assert.equal(r.errorCode, 0, `${topic} ${i}`);
          assert.equal(Number(r.baseOffset), i * 10);
        }
      }
      c.close();
      assert.equal(await broker.kill("SIGTERM"), 0);
      broker = null;

      const segments = (topic: string) =>
        [...Deno.readDirSync(`${dataDir}/${topic}-0`)].map((e) => e.name)
          .filter((n) => n.endsWith(".log")).sort();
      // "cut": its second segment loses the end of its second batch.
      const cutDir = `${dataDir}/cut-0`;
      const cutSegments = segments("cut");
      assert.ok(cutSegments.length >= 5, `${cutSegments}`);
      const cutBatches = batchesOf(Deno.readFileSync(`${cutDir}/${cutSegments[1]}`));
      Deno.truncateSync(`${cutDir}/${cutSegments[1]}`, cutBatches[1].position + 70);
      const end = cutBatches[1].header.baseOffset;
      // "damaged": the length field of a batch inside a closed segment says 5 bytes.
      const damagedPath = `${dataDir}/damaged-0/${segments("damaged")[1]}`;
      const bytes = Deno.readFileSync(damagedPath);
      const bad = batchesOf(bytes)[1];
      new DataView(bytes.buffer).setInt32(bad.position + 8, 5);
      Deno.writeFileSync(damagedPath, bytes);

      broker = await BrokerProcess.start(dataDir, flags);
      const warnings = broker.lines.filter((l) => / WARN .*cut-0: /.test(l));
      assert.equal(warnings.length, cutSegments.length - 2 + 2, warnings.join("\n"));
      assert.match(
        warnings[warnings.length - 1],
        new RegExp(
          `cut-0: recovery dropped \\d+ bytes: \\d+ batches, \\d+ records, offsets ${end}\\.\\.399 by their headers in ${
            cutSegments.length - 1
          } segments; log end offset now ${end}$`,
        ),
      );
      assert.deepEqual(segments("cut"), cutSegments.slice(0, 2));

      // A real client reads 0..end-1, contiguous, and the high watermark is the new end.
      const out = decoder.decode(
        await kcat(broker.address, [
          "-C",
          "-t",
          "cut",
          "-p",
          "0",
          "-o",
          "beginning",
          "-e",
          "-f",
          "%o\n",
        ]),
      );
      assert.deepEqual(
        out.split("\n").filter((l) => l),
        Array.from({ length: end }, (_, i) => String(i)),
      );
      const c2 = await RawClient.connect(broker.port);
      const atEnd = await fetchAt(c2, "cut", end);
      assert.equal(atEnd.errorCode, 0);
      assert.equal(Number(atEnd.highWatermark), end);
      assert.equal((await fetchAt(c2, "cut", end + 1)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(Number((await produce(c2, "cut", batch(1, "after"))).baseOffset), end);

      // The damaged batch is an error on its partition, logged; the rest still reads.
      const corrupt = await fetchAt(c2, "damaged", bad.header.baseOffset);
      assert.equal(corrupt.errorCode, ErrorCode.CORRUPT_MESSAGE);
      assert.equal(Number(corrupt.highWatermark), 400);
      assert.equal((corrupt.records as Uint8Array).length, 0);
      const before = await fetchAt(c2, "damaged", bad.header.baseOffset - 10);
      assert.equal(before.errorCode, 0);
      assert.equal(values(before.records as Uint8Array).length, 10);
      const later = await fetchAt(c2, "damaged", 390);
      assert.deepEqual(
        values(later.records as Uint8Array),
        Array.from({ length: 10 }, (_, j) => `b39-${j}`),
      );
      c2.close();
      assert.ok(
        broker.lines.some((l) =>
          / ERROR .*damaged-0: read at offset \d+ answers CORRUPT_MESSAGE: corrupt segment .*batch length 5 at position /
            .test(l)
        ),
        broker.lines.join("\n"),
      );
    } finally {
      if (broker) await broker.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "e2e (2 workers): a segment roll that fails answers KAFKA_STORAGE_ERROR; other partitions go on",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-roll-" });
    const broker = await BrokerProcess.start(dataDir, ["--set", "log.segment.bytes=1200"]);
    try {
      const c = await RawClient.connect(broker.port);
      await createTopics(c, ["roll", "other"]);
      const size = batch(10, "x").length;
      // The append that finds the active segment above segment.bytes - its size rolls.
      let n = 0;
      while (n * size <= 1200 - size) {
        assert.equal((await produce(c, "roll", batch(10, `r${n}`))).errorCode, 0);
        n++;
      }
      // Where the next segment goes, a directory: creating the file fails (EISDIR).
      const next = `${dataDir}/roll-0/${segmentFileName(n * 10, ".log")}`;
      Deno.mkdirSync(next);
      const failed = await produce(c, "roll", batch(10, "lost"));
      assert.equal(failed.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
      assert.equal((await produce(c, "other", batch(10, "fine"))).errorCode, 0);
      const f = await fetchAt(c, "roll", 0);
      assert.equal(f.errorCode, 0);
      assert.equal(Number(f.highWatermark), n * 10, "nothing of the failed append is in the log");
      assert.ok(
        broker.lines.some((l) => / ERROR .*rolling a new segment of roll-0 failed: /.test(l)),
        broker.lines.join("\n"),
      );
      // Once the path is free again the roll succeeds and offsets continue where they were.
      Deno.removeSync(next);
      const ok = await produce(c, "roll", batch(10, "again"));
      assert.equal(ok.errorCode, 0);
      assert.equal(Number(ok.baseOffset), n * 10);
      assert.deepEqual(
        values((await fetchAt(c, "roll", n * 10)).records as Uint8Array),
        Array.from({ length: 10 }, (_, j) => `again-${j}`),
      );
      c.close();
    } finally {
      await broker.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
