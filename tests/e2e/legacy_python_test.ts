/**
 * kafka-python (Debian's python3-kafka) pinned to old broker versions, so it speaks the
 * protocol versions Kafka 3.9 still serves for them: 0.8.1 (Produce v0 magic 0, Fetch v0,
 * ListOffsets v0, OffsetCommit/OffsetFetch v0), 0.8.2 (OffsetCommit v1, OffsetFetch v1,
 * FindCoordinator v0), 0.9 (Produce v1, Fetch v1, consumer groups), 0.10.0 (Produce v2 magic 1,
 * Fetch v2) and 0.10.1 (Fetch v3, ListOffsets v1), uncompressed and gzip. A broker with two
 * workers; records written by kcat (v2 batches with headers) are read back down-converted.
 */
import assert from "node:assert/strict";
import { BrokerProcess, decoder, kcat, python } from "../support/helpers.ts";

const SCRIPT = `
import sys, json
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
addr, ver_s, comp, topic = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
ver = tuple(int(x) for x in ver_s.split("."))
comp = None if comp == "none" else comp
ts = 1700000000000 if ver >= (0, 10) else None
p = KafkaProducer(bootstrap_servers=addr, api_version=ver, compression_type=comp, linger_ms=20)
futs = [p.send(topic, key=b"k%d" % i, value=b"v%d" % i, partition=i % 2,
               timestamp_ms=None if ts is None else ts + i) for i in range(6)]
p.flush()
produced = [[f.get().partition, f.get().offset] for f in futs]
p.close()
c = KafkaConsumer(bootstrap_servers=addr, api_version=ver, group_id="g-" + topic,
                  auto_offset_reset="earliest", enable_auto_commit=False, consumer_timeout_ms=10000)
tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
c.assign(tps)
got = []
for m in c:
    got.append([m.partition, m.offset, m.key.decode(), m.value.decode(), m.timestamp])
    if len(got) == 6 + int(sys.argv[5]):
        break
c.commit({tps[0]: OffsetAndMetadata(2, "m0"), tps[1]: OffsetAndMetadata(3, "m1")})
committed = [c.committed(tp) for tp in tps]
c.close()
c2 = KafkaConsumer(bootstrap_servers=addr, api_version=ver, group_id="g-" + topic)
committed2 = [c2.committed(tp) for tp in tps]
c2.close()
print(json.dumps({"produced": produced, "got": sorted(got), "committed": committed, "again": committed2}))
`;

Deno.test("kafka-python at 0.8.1–0.10.1 against a two-worker broker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tributary-legacy-py-" });
  const bp = await BrokerProcess.start(dir, ["--workers", "2", "--set", "num.partitions=2"]);
  try {
    for (const ver of ["0.8.1", "0.8.2", "0.9", "0.10.0", "0.10.1"]) {
      for (const comp of ["none", "gzip"]) {
        const topic = `py-${ver.replaceAll(".", "-")}-${comp}`;
        await kcat(bp.address, ["-P", "-t", topic, "-p", "1", "-k", "kc", "-H", "h=x"], {
          stdin: "from-kcat",
        });
        const out = JSON.parse(await python(SCRIPT, [bp.address, ver, comp, topic, "1"], 90_000));
        const tsOf = (i: number) => ver.startsWith("0.10") ? 1700000000000 + i : null;
        assert.deepEqual(
          out.produced,
          [[0, 0], [1, 1], [0, 1], [1, 2], [0, 2], [1, 3]],
          `${ver} ${comp} produce`,
        );
        const got = out.got as [number, number, string, string, number | null][];
        const kcatRec = got.find((r) => r[3] === "from-kcat")!;
        // kcat's record: offset 0 of partition 1, a create time from the clock (magic 1) or none.
        assert.deepEqual(kcatRec.slice(0, 4), [1, 0, "kc", "from-kcat"], `${ver} ${comp}`);
        assert.ok(ver.startsWith("0.10") ? kcatRec[4]! > 1700000000000 : kcatRec[4] === null);
        assert.deepEqual(
          got.filter((r) => r !== kcatRec),
          [
            [0, 0, "k0", "v0", tsOf(0)],
            [0, 1, "k2", "v2", tsOf(2)],
            [0, 2, "k4", "v4", tsOf(4)],
            [1, 1, "k1", "v1", tsOf(1)],
            [1, 2, "k3", "v3", tsOf(3)],
            [1, 3, "k5", "v5", tsOf(5)],
          ],
          `${ver} ${comp} consume`,
        );
        assert.deepEqual(out.committed, [2, 3], `${ver} ${comp} commit`);
        assert.deepEqual(out.again, [2, 3], `${ver} ${comp} committed, new consumer`);
      }
    }
    // What old producers wrote is read by a current client (kcat, Fetch v11+).
    const read = decoder.decode(
      await kcat(bp.address, [
        "-C",
        "-t",
        "py-0-10-0-gzip",
        "-p",
        "0",
        "-o",
        "beginning",
        "-e",
        "-f",
        "%o %k %s %T\\n",
      ]),
    );
    assert.equal(read, "0 k0 v0 1700000000000\n1 k2 v2 1700000000002\n2 k4 v4 1700000000004\n");
  } finally {
    await bp.kill();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
