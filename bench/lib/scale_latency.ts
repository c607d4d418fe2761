/** Scale benchmark 1: produce→consume latency at a fixed rate (Tributary and the mock). */
import { live, PYTHON } from "./scale_broker.ts";

export const LATENCY_SCRIPT = `
import json, os, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_END
bootstrap, topic, rate, seconds, warm, mock = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6] == "1"
threading.Timer(seconds + warm + 60, lambda: os._exit(3)).start()
common = {"log_level": 3}
if mock:
    p = Producer({"test.mock.num.brokers": 1, "linger.ms": 0, **common})
    md = p.list_topics(timeout=10)
    b = list(md.brokers.values())[0]
    bootstrap = "%s:%d" % (b.host, b.port)
else:
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, **common})
# Make the topic exist (auto-created by Metadata on both), then wait for a leader.
for _ in range(100):
    md = p.list_topics(topic, timeout=5)
    t = md.topics.get(topic)
    if t is not None and t.error is None and 0 in t.partitions:
        break
    time.sleep(0.1)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "latency-bench", "enable.auto.commit": False, **common})
c.assign([TopicPartition(topic, 0, OFFSET_END)])
acks = []
def on_delivery(err, msg, sent):
    if err is None:
        acks.append(time.perf_counter_ns() - sent)
done = threading.Event()
def produce():
    interval = 1e9 / rate
    start = time.perf_counter_ns()
    total = int((warm + seconds) * rate)
    for i in range(total):
        due = start + i * interval
        for _ in range(1000):
            now = time.perf_counter_ns()
            if now >= due:
                break
            p.poll((due - now) / 1e9)
        sent = time.perf_counter_ns()
        p.produce(topic, value=b"%d:%d" % (i, sent), partition=0,
                  on_delivery=lambda err, msg, s=sent: on_delivery(err, msg, s))
        p.poll(0)
    p.flush(10)
    done.set()
# The consumer must be fetching before the clock matters: the warm-up covers that.
th = threading.Thread(target=produce)
th.start()
lat = []
warm_n = int(warm * rate)
deadline = time.time() + warm + seconds + 30
while time.time() < deadline:
    m = c.poll(0.5)
    now = time.perf_counter_ns()
    if m is None:
        if done.is_set():
            # Drain what is still in flight, then stop.
            m2 = c.poll(1.0)
            if m2 is None:
                break
            m, now = m2, time.perf_counter_ns()
        else:
            continue
    if m.error():
        continue
    i, sent = m.value().split(b":")
    if int(i) >= warm_n:
        lat.append(now - int(sent))
th.join(5)
c.close()
lat.sort()
acks = acks[warm_n:]
acks.sort()
def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6 if xs else None
print(json.dumps({"n": len(lat), "expected": int(seconds * rate), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": pct(lat, 1.0),
                  "ack_p50": pct(acks, 0.5), "ack_p99": pct(acks, 0.99)}), flush=True)
os._exit(0)
`;

export interface LatencyResult {
  n: number;
  expected: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  ack_p50: number | null;
  ack_p99: number | null;
}

export async function latencyRun(
  bootstrap: string,
  mock: boolean,
  seconds: number,
): Promise<LatencyResult> {
  const child = new Deno.Command(PYTHON, {
    args: [
      "-c",
      LATENCY_SCRIPT,
      bootstrap,
      `latency-${Date.now()}`,
      "1000",
      String(seconds),
      "2",
      mock ? "1" : "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const out = await child.output();
  live.delete(child);
  const text = new TextDecoder().decode(out.stdout).trim();
  const line = text.split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(
      `latency client failed (exit ${out.code}): ${text.slice(0, 500)} ${
        new TextDecoder().decode(out.stderr).slice(0, 1000)
      }`,
    );
  }
}
