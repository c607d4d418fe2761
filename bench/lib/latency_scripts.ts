/**
 * The Python (confluent_kafka / librdkafka) clients bench/latency.ts runs. Each script takes
 * a bootstrap address, or "mock" for librdkafka's mock cluster opened in the same process, so
 * the reference and Tributary are driven by exactly the same client code.
 */

/** Opens the mock cluster when asked to: `bootstrap, producer = target(argv1)`. */
const TARGET = `
def target(arg, common):
    if arg != "mock":
        return arg
    from confluent_kafka import Producer
    global _mock_keepalive
    _mock_keepalive = Producer({"test.mock.num.brokers": 1, **common})
    b = list(_mock_keepalive.list_topics(timeout=10).brokers.values())[0]
    return "%s:%d" % (b.host, b.port)

def wait_topic(p, topic, partitions):
    for _ in range(200):
        t = p.list_topics(topic, timeout=5).topics.get(topic)
        if t is not None and t.error is None and len(t.partitions) >= partitions:
            return
        time.sleep(0.05)
    raise SystemExit("topic %s has no leader" % topic)
`;

/**
 * The timed part both latency scripts share: with `p` (linger.ms=0), `topic`, `rate`, `warm`,
 * `seconds` and `common` defined, a consumer from the end of partition 0 and a thread producing
 * `(warm + seconds) * rate` records stamped "i:perf_counter_ns", paced; leaves `lat` (receive −
 * send of the records after the warm-up), `acks` (produce → delivery report) and `warm_n`.
 */
export const PROBE = `
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
`;

/** Sorts `lat` and `acks` (past the warm-up) and defines `pct(xs, q)` in milliseconds. */
export const PERCENTILES = `
lat.sort()
acks = acks[warm_n:]
acks.sort()
def pct(xs, q):
    return xs[min(len(xs) - 1, int(q * len(xs)))] / 1e6 if xs else None
`;

/**
 * A producer at a fixed rate (records of `size` bytes), librdkafka defaults otherwise; runs
 * `seconds`, prints what it sent and had acknowledged.
 *   loader.py BOOTSTRAP TOPIC RATE SIZE SECONDS
 */
export const LOADER_SCRIPT = `
import json, os, sys, threading, time
from confluent_kafka import Producer
bootstrap, topic, rate, size, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
threading.Timer(seconds + 60, lambda: os._exit(3)).start()
p = Producer({"bootstrap.servers": bootstrap, "log_level": 3, "queue.buffering.max.messages": 1000000})
acked = [0]
def dr(err, msg):
    if err is None:
        acked[0] += 1
value = b"x" * size
start = time.perf_counter()
sent = 0
while True:
    now = time.perf_counter()
    if now - start >= seconds:
        break
    due = int((now - start) * rate)
    while sent < due:
        try:
            p.produce(topic, value, on_delivery=dr)
            sent += 1
        except BufferError:
            break
    p.poll(0.001)
p.flush(20)
print(json.dumps({"sent": sent, "acked": acked[0], "seconds": seconds}), flush=True)
os._exit(0)
`;

/**
 * Produce→consume latency at RATE records/s: a paced producer (linger.ms=0) stamping
 * perf_counter_ns into each value, a consumer with librdkafka's defaults in the same process
 * computing receive − send; optionally the loader (above) producing to another topic of the
 * same broker the whole time.
 *   latency.py TARGET TOPIC RATE SECONDS WARM LOAD_RATE LOAD_SIZE
 */
export const LATENCY_SCRIPT = `
import json, os, subprocess, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_END
${TARGET}
arg, topic, rate, seconds, warm = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
load_rate, load_size, loader_src = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
threading.Timer(seconds + warm + 90, lambda: os._exit(3)).start()
common = {"log_level": 3}
bootstrap = target(arg, common)
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, **common})
wait_topic(p, topic, 1)
loader = None
if load_rate > 0:
    wait_topic(p, topic + "-load", 1)
    loader = subprocess.Popen([sys.executable, "-c", loader_src, bootstrap, topic + "-load",
                               str(load_rate), str(load_size), str(warm + seconds + 1)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
${PROBE}load = None
if loader is not None:
    out, _ = loader.communicate(timeout=60)
    try:
        load = json.loads(out.decode().strip().split("\\n")[-1])
    except Exception:
        load = {"sent": 0, "acked": 0, "seconds": 0}
${PERCENTILES}print(json.dumps({"n": len(lat), "expected": int(seconds * rate), "p50": pct(lat, 0.5),
                  "p99": pct(lat, 0.99), "p999": pct(lat, 0.999), "max": pct(lat, 1.0),
                  "ack_p50": pct(acks, 0.5), "ack_p99": pct(acks, 0.99),
                  "load_acked_per_s": (load["acked"] / load["seconds"]) if load and load["seconds"] else None}), flush=True)
os._exit(0)
`;

/**
 * Consumer fairness under saturation: TOPICS topics × 4 partitions (the mock's auto-created
 * count), PRODUCERS kcat producers flooding them as fast as they can (RECORD_SIZE-byte
 * records fed by yes(1), keyless, so spread over each topic's partitions), CONSUMERS consumers with
 * librdkafka's defaults (kcat -C), each reading one of the partitions from offset 0 (half the
 * partitions are read). After SECONDS the producers are killed and the consumers stopped;
 * consumed / produced (over the partitions read) is the share of what was written in the
 * window that consumers read in it.
 *   fairness.py TARGET PREFIX TOPICS PRODUCERS CONSUMERS SECONDS RECORD_SIZE
 */
export const FAIRNESS_SCRIPT = `
import json, os, signal, subprocess, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition
${TARGET}
arg, prefix, ntopics, nprod, ncons, seconds, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
record = "r" * size
threading.Timer(seconds + 120, lambda: os._exit(3)).start()
common = {"log_level": 3}
bootstrap = target(arg, common)
topics = ["%s-%d" % (prefix, i) for i in range(ntopics)]
p = Producer({"bootstrap.servers": bootstrap, **common})
for t in topics:
    wait_topic(p, t, 4)
parts = [(t, q) for t in topics for q in range(4)]
# Each consumer reads one partition, half of them in all (so as many consumers as producers
# with the defaults): kcat -C writes a newline per record, counted here in bulk.
mine = parts[0::2][:ncons]
counts = [0] * len(mine)
def count(k, pipe):
    while True:
        b = pipe.read1(1 << 16)
        if not b:
            break
        counts[k] += b.count(b"\\n")
cons = []
for k, (t, q) in enumerate(mine):
    pr = subprocess.Popen(["kcat", "-C", "-q", "-b", bootstrap, "-t", t, "-p", str(q), "-o", "beginning",
                           "-f", "\\n", "-X", "log_level=0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    threading.Thread(target=count, args=(k, pr.stdout), daemon=True).start()
    cons.append(pr)
time.sleep(1)
procs = []
for i in range(nprod):
    # yes(1) feeds the records: kcat -P reads one per line, as fast as it can send them.
    procs.append(subprocess.Popen("yes %s | exec kcat -P -q -b %s -t %s -X log_level=0" % (record, bootstrap, topics[i % ntopics]),
                                   shell=True, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
t0 = time.time()
time.sleep(seconds)
consumed_at_end = sum(counts)
still = 0
for pr in procs:
    still += 1 if pr.poll() is None else 0
    os.killpg(pr.pid, signal.SIGKILL)
for pr in cons:
    pr.kill()
for pr in procs + cons:
    pr.wait()
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "fair-count", **common})
produced = 0
for (t, q) in mine:
    lo, hi = c.get_watermark_offsets(TopicPartition(t, q), timeout=10)
    produced += hi
c.close()
print(json.dumps({"produced": produced, "consumed": consumed_at_end, "per_consumer": counts,
                  "producers_running_at_end": still, "seconds": seconds}), flush=True)
os._exit(0)
`;
