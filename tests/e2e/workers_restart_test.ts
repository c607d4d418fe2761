/**
 * The broker on three Deno workers (`--workers 3`) as a child process: a worker that dies is
 * restarted by the supervisor with no acknowledged record lost, and the controller worker's
 * groups and transactions state comes back from disk.
 */
import assert from "node:assert/strict";
import { type BrokerProcess, decoder, kcat, LineProcess } from "../support/helpers.ts";
import {
  kcatProduce,
  kcatRead,
  logged,
  owners,
  sleep,
  waitFor,
  withBroker,
  WORKERS,
} from "../support/workers_fixtures.ts";

/** Whether the child process is still running. */
async function alive(b: BrokerProcess): Promise<boolean> {
  const r = await Promise.race([b.child.status.then(() => false), sleep(200).then(() => true)]);
  return r;
}

// ---- 5. a worker dies and is restarted ---------------------------------------------------

const STREAM = `
import sys, time
from confluent_kafka import Producer

addr, topic, seconds, parts = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
p = Producer({"bootstrap.servers": addr, "acks": "all", "enable.idempotence": True,
              "linger.ms": 2, "message.timeout.ms": 60000, "retry.backoff.ms": 10,
              "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500})
out = sys.stdout
def on_delivery(err, msg):
    if err is None:
        out.write("A %d %d %s\\n" % (msg.partition(), msg.offset(), msg.value().decode()))
    else:
        out.write("E %d %s %s\\n" % (msg.partition(), msg.value().decode(), err))

out.write("STARTED\\n")
out.flush()
i = 0
end = time.time() + seconds
while time.time() < end:
    try:
        p.produce(topic, value="s-%d" % i, partition=i % parts, on_delivery=on_delivery)
        i += 1
    except BufferError:
        p.poll(0.01)
        continue
    p.poll(0)
    if i % 20 == 0:
        out.flush()
        time.sleep(0.02)
left = p.flush(60)
out.write("DONE %d %d\\n" % (i, left))
out.flush()
`;

Deno.test(
  "workers=3: the last worker dies mid-stream and is restarted; no acknowledged record lost",
  async () => {
    await withBroker("crash", ["--set", "num.partitions=6"], async (b) => {
      const topic = "six-crash";
      const parts = 6;
      const own = owners(topic, parts);
      const onLast = own.filter((o) => o === WORKERS - 1).length;
      assert.equal(onLast, 2);
      // Phase 1: acknowledged records on every partition.
      const pre = Array.from(
        { length: parts },
        (_, p) =>
          Array.from({ length: 100 }, (_, i): [string, string] => [`pk${i}`, `pre-${p}-${i}`]),
      );
      await kcatProduce(b.address, topic, 0, pre[0]);
      await Promise.all([1, 2, 3, 4, 5].map((p) => kcatProduce(b.address, topic, p, pre[p])));

      // Phase 2: an idempotent acks=all stream over all partitions; the last worker dies in it.
      const stream = new LineProcess(
        "/usr/bin/python3",
        ["-c", STREAM, b.address, topic, "7", String(parts)],
        120_000,
      );
      const acked: { p: number; o: number; v: string }[] = [];
      const failed: string[] = [];
      let done: string | null = null;
      const reading = (async () => {
        while (true) {
          const line = await stream.nextLine(90_000);
          if (line === null) break;
          if (line.startsWith("A ")) {
            const [, p, o, v] = line.split(" ");
            acked.push({ p: Number(p), o: Number(o), v });
          } else if (line.startsWith("E ")) failed.push(line);
          else if (line.startsWith("DONE ")) done = line;
        }
      })();
      try {
        await waitFor("records acknowledged before the crash", () => acked.length >= 300, 30_000);
        const atCrash = acked.length;
        b.child.kill("SIGUSR2");
        await logged(b, new RegExp(`worker ${WORKERS - 1} died .*; restarting it`));
        const restarted = await logged(b, new RegExp(`worker ${WORKERS - 1} restarted: \\d+`));
        assert.match(restarted, new RegExp(`restarted: ${onLast} partition\\(s\\) recovered`));
        await reading;
        const status = await stream.status;
        assert.equal(status.code, 0, await stream.stderr);
        assert.ok(done !== null, "the stream did not finish");
        const [, sent, left] = (done as string).split(" ").map(Number);
        assert.equal(left, 0);
        assert.equal(acked.length + failed.length, sent);
        assert.ok(acked.length > atCrash, `${acked.length} acked, ${atCrash} before the crash`);
      } finally {
        await stream.closeStdin();
        await reading.catch(() => {});
      }

      // Phase 3: more records after the restart.
      const post = Array.from(
        { length: parts },
        (_, p) =>
          Array.from({ length: 20 }, (_, i): [string, string] => [`qk${i}`, `post-${p}-${i}`]),
      );
      await Promise.all(post.map((recs, p) => kcatProduce(b.address, topic, p, recs)));

      // Everything reads back: phase 1, then the stream in send order (idempotence: no
      // duplicates, no gaps), then phase 3; each acknowledged record at its acknowledged offset.
      for (let p = 0; p < parts; p++) {
        const got = await kcatRead(b.address, topic, p, "%o %s\n");
        const streamed = acked.filter((a) => a.p === p).sort((x, y) => x.o - y.o);
        const want = [
          ...pre[p].map(([, v]) => v),
          ...streamed.map((a) => a.v),
          ...post[p].map(([, v]) => v),
        ].map((v, i) => `${i} ${v}`);
        assert.deepEqual(got, want, `partition ${p} (worker ${own[p]})`);
        for (const a of streamed) assert.equal(got[a.o], `${a.o} ${a.v}`);
        const order = streamed.map((a) => Number(a.v.slice(2)));
        for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1], "send order");
      }
      assert.ok(await alive(b), "the broker process exited");
      // The crash is invisible to the producer: librdkafka retries NOT_LEADER_OR_FOLLOWER and
      // connection losses, so no record may fail (a non-retriable error code would fail it).
      assert.deepEqual(failed, [], b.lines.filter((l) => /WARN|ERROR/.test(l)).join("\n"));
    }, { TRIBUTARY_TEST_HOOKS: "1" });
  },
);

// ---- worker 0 (the controller) dies: groups and transactions state come back from disk ------

Deno.test(
  "workers=3: the controller worker dies and is restarted; committed offsets and data survive",
  async () => {
    await withBroker("controller-crash", ["--set", "num.partitions=3"], async (b) => {
      const topic = "ctl";
      for (let p = 0; p < 3; p++) {
        await kcatProduce(
          b.address,
          topic,
          p,
          Array.from({ length: 50 }, (_, i) => [`k${p}-${i}`, `a-${p}-${i}`]),
        );
      }
      // A kcat group consumer reads everything and commits (offsets live on worker 0).
      const groupRead = async (expect: number) => {
        const out = await kcat(b.address, [
          "-G",
          "ctl-group",
          topic,
          "-X",
          "auto.offset.reset=earliest",
          "-X",
          "enable.auto.commit=true",
          "-X",
          "auto.commit.interval.ms=100",
          "-q",
          "-e",
          "-f",
          "%s\n",
        ], { timeoutMs: 60_000 });
        const lines = decoder.decode(out).split("\n").filter((l) => l !== "");
        assert.equal(lines.length, expect, lines.slice(0, 5).join(","));
        return lines;
      };
      assert.equal((await groupRead(150)).filter((l) => l.startsWith("a-")).length, 150);

      b.child.kill("SIGUSR1");
      await waitFor("worker 0 restarted", () => b.lines.some((l) => /worker 0 restarted/.test(l)));
      assert.ok(b.lines.some((l) => /worker 0 died/.test(l)));

      for (let p = 0; p < 3; p++) {
        await kcatProduce(
          b.address,
          topic,
          p,
          Array.from({ length: 10 }, (_, i) => [`n${p}-${i}`, `b-${p}-${i}`]),
        );
      }
      // The same group resumes at its committed offsets: only the 30 new records.
      const again = await groupRead(30);
      assert.deepEqual(again.filter((l) => l.startsWith("b-")).length, 30);
      for (let p = 0; p < 3; p++) {
        const all = await kcatRead(b.address, topic, p, "%o %s\n");
        assert.equal(all.length, 60);
        assert.equal(all[0], `0 a-${p}-0`);
        assert.equal(all[59], `59 b-${p}-9`);
      }
    }, { TRIBUTARY_TEST_HOOKS: "1" });
  },
);
