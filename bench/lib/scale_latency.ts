/** Scale benchmark 1: produce→consume latency at a fixed rate (Tributary and the mock). */
import { PERCENTILES, PROBE } from "./latency_scripts.ts";
import { runPythonJson } from "./scale_broker.ts";

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
${PROBE}${PERCENTILES}print(json.dumps({"n": len(lat), "expected": int(seconds * rate), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "max": pct(lat, 1.0),
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
  return await runPythonJson([
    "-c",
    LATENCY_SCRIPT,
    bootstrap,
    `latency-${Date.now()}`,
    "1000",
    String(seconds),
    "2",
    mock ? "1" : "0",
  ], "latency client") as LatencyResult;
}
