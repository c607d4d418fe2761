#!/usr/bin/env python3
"""confluent-kafka clients for the replication tests (tests/e2e/replication_*_test.ts).

One script, the role as the first argument; every event is one JSON line on stdout, so the
Deno test can follow the client while it kills and restarts brokers. A line "stop" on stdin
ends the long-running roles cleanly.

  produce   idempotent producer (acks=all): values "<id>-<seq>" over the topic's partitions,
            until "stop"; one line per delivery report {"ev":"ack","p","o","v"} or
            {"ev":"err","v","err"}, then {"ev":"done","acked","failed"}.
  consume   group member, enable.auto.commit=false, synchronous commit after each batch:
            {"ev":"assigned"}, {"ev":"rec","p","o","v"}, {"ev":"commit","p","o","ok"}; until
            "stop", then closes (LeaveGroup) and prints {"ev":"done"}.
  send      a few plain records with the given acks and no retries, one line per report
            {"ev":"ack"|"err", "v", "p", "o", "err", "code"}, then {"ev":"done"}.
  txn       transactional producer: transactions of --per records, every --abort-every-th
            aborted, until "stop": {"ev":"txn","n","outcome":"committed"|"aborted","vals"};
            retriable errors retried, abortable ones abort the transaction (reported).
  read      reads partitions from the beginning to their end offsets (no group), with the
            given isolation level: {"ev":"rec","p","o","v"}…, then {"ev":"done"}.
  commit    commits the given offsets for a group: {"ev":"committed"}.
  committed fetches a group's committed offsets: {"ev":"committed","offsets":{p: o}}.
"""
import argparse
import json
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def stdin_stopper():
    """An Event set once stdin says "stop" (or closes)."""
    ev = threading.Event()

    def watch():
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        ev.set()

    threading.Thread(target=watch, daemon=True).start()
    return ev


def common(a):
    return {
        "bootstrap.servers": a.bootstrap,
        # Follow leadership quickly while brokers come and go.
        "topic.metadata.refresh.interval.ms": 1000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "retry.backoff.ms": 100,
        "socket.connection.setup.timeout.ms": 3000,
    }


def partitions_of(a):
    return list(range(a.partitions))


def produce(a):
    stop = stdin_stopper()
    acked = failed = 0
    lock = threading.Lock()

    def report(err, msg):
        nonlocal acked, failed
        v = msg.value().decode()
        with lock:
            if err is None:
                acked += 1
                emit(ev="ack", p=msg.partition(), o=msg.offset(), v=v)
            else:
                failed += 1
                emit(ev="err", v=v, p=msg.partition(), err=str(err), code=err.code())

    p = Producer({
        **common(a),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": a.message_timeout_ms,
        "request.timeout.ms": 10000,
    })
    seq = 0
    parts = partitions_of(a)
    while not stop.is_set():
        # Bounded in flight: the test reads reports as they come.
        while len(p) >= a.max_in_flight and not stop.is_set():
            p.poll(0.05)
        if stop.is_set():
            break
        v = f"{a.id}-{seq}"
        p.produce(a.topic, value=v.encode(), partition=parts[seq % len(parts)],
                  on_delivery=report)
        seq += 1
        p.poll(0)
        if a.interval_ms:
            time.sleep(a.interval_ms / 1000)
    left = p.flush(a.message_timeout_ms / 1000 + 30)
    emit(ev="done", acked=acked, failed=failed, unflushed=left, sent=seq)


def consume(a):
    stop = stdin_stopper()
    c = Consumer({
        **common(a),
        "group.id": a.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 500,
        "isolation.level": a.isolation,
    })

    def on_assign(consumer, parts):
        emit(ev="assigned", parts=[tp.partition for tp in parts])

    def on_revoke(consumer, parts):
        emit(ev="revoked", parts=[tp.partition for tp in parts])

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        msgs = c.consume(200, 0.2)
        nexts = {}
        for m in msgs:
            if m.error():
                emit(ev="error", err=str(m.error()), code=m.error().code())
                continue
            emit(ev="rec", p=m.partition(), o=m.offset(), v=m.value().decode())
            nexts[m.partition()] = m.offset() + 1
        if not nexts:
            continue
        # Commit after processing the batch; a failed commit is reported, and the next one
        # covers it.
        tps = [TopicPartition(a.topic, p, o) for p, o in sorted(nexts.items())]
        try:
            c.commit(offsets=tps, asynchronous=False)
            ok, err = True, None
        except KafkaException as e:
            ok, err = False, str(e)
        for tp in tps:
            emit(ev="commit", p=tp.partition, o=tp.offset, ok=ok, err=err)
    c.close()
    emit(ev="done")


def send(a):
    p = Producer({
        **common(a),
        "acks": a.acks,
        "retries": 0,
        "enable.idempotence": False,
        "message.timeout.ms": a.message_timeout_ms,
        "request.timeout.ms": a.message_timeout_ms,
    })
    out = []

    def report(err, msg):
        v = msg.value().decode()
        if err is None:
            out.append(dict(ev="ack", v=v, p=msg.partition(), o=msg.offset()))
        else:
            out.append(dict(ev="err", v=v, p=msg.partition(), err=err.name(), code=err.code()))

    for i in range(a.count):
        p.produce(a.topic, value=f"{a.id}-{i}".encode(), partition=a.partition,
                  on_delivery=report)
    p.flush(a.message_timeout_ms / 1000 + 30)
    for o in out:
        emit(**o)
    emit(ev="done")


def txn(a):
    stop = stdin_stopper()
    p = Producer({
        **common(a),
        "transactional.id": a.txn_id,
        "transaction.timeout.ms": 60000,
        "message.timeout.ms": min(a.message_timeout_ms, 60000),
        "request.timeout.ms": 10000,
        "linger.ms": 5,
    })
    retry_until(lambda: p.init_transactions(30))
    n = 0
    parts = partitions_of(a)
    while not stop.is_set():
        vals = [f"{a.id}-t{n}-{i}" for i in range(a.per)]
        want_abort = a.abort_every > 0 and n % a.abort_every == a.abort_every - 1
        p.begin_transaction()
        errors = []
        for i, v in enumerate(vals):
            p.produce(a.topic, value=v.encode(), partition=parts[(n + i) % len(parts)],
                      on_delivery=lambda e, m: errors.append(str(e)) if e else None)
        outcome = None
        try:
            if want_abort:
                p.flush(a.message_timeout_ms / 1000)
                retry_until(lambda: p.abort_transaction(30))
                outcome = "aborted"
            else:
                retry_until(lambda: p.commit_transaction(30))
                outcome = "committed"
        except KafkaException as e:
            err = e.args[0]
            if not err.txn_requires_abort():
                emit(ev="fatal", n=n, err=str(err))
                raise
            retry_until(lambda: p.abort_transaction(30))
            outcome = "aborted"
            emit(ev="abortable", n=n, err=str(err))
        emit(ev="txn", n=n, outcome=outcome, vals=vals, errors=errors)
        n += 1
    emit(ev="done", txns=n)


def retry_until(call):
    """Calls a transactional API again on retriable errors (librdkafka asks callers to)."""
    while True:
        try:
            return call()
        except KafkaException as e:
            err = e.args[0]
            if err.retriable():
                emit(ev="retry", err=str(err))
                continue
            raise


def read(a):
    c = Consumer({
        **common(a),
        "group.id": "replication-reader",
        "enable.auto.commit": False,
        "isolation.level": a.isolation,
        "enable.partition.eof": True,
    })
    parts = partitions_of(a)
    ends = {}
    for p in parts:
        lo, hi = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=30)
        ends[p] = hi
    c.assign([TopicPartition(a.topic, p, 0) for p in parts])
    done = set(p for p in parts if ends[p] == 0)
    deadline = time.time() + 60
    while len(done) < len(parts):
        if time.time() > deadline:
            emit(ev="timeout", done=sorted(done), ends=ends)
            sys.exit(2)
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                if m.offset() >= ends[m.partition()]:
                    done.add(m.partition())
                continue
            emit(ev="error", err=str(m.error()))
            continue
        emit(ev="rec", p=m.partition(), o=m.offset(), v=m.value().decode())
    c.close()
    emit(ev="done", ends=ends)


def commit(a):
    c = Consumer({**common(a), "group.id": a.group, "enable.auto.commit": False})
    offs = [TopicPartition(a.topic, int(p), int(o))
            for p, o in (x.split(":") for x in a.offsets.split(","))]
    c.commit(offsets=offs, asynchronous=False)
    c.close()
    emit(ev="committed")


def committed(a):
    c = Consumer({**common(a), "group.id": a.group, "enable.auto.commit": False})
    got = c.committed([TopicPartition(a.topic, p) for p in partitions_of(a)], timeout=30)
    c.close()
    emit(ev="committed", offsets={str(tp.partition): tp.offset for tp in got})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--partitions", type=int, default=1)
    ap.add_argument("--partition", type=int, default=0)
    ap.add_argument("--id", default="p")
    ap.add_argument("--group", default="g")
    ap.add_argument("--txn-id", default="t")
    ap.add_argument("--acks", default="all")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--per", type=int, default=3)
    ap.add_argument("--abort-every", type=int, default=3)
    ap.add_argument("--isolation", default="read_committed")
    ap.add_argument("--offsets", default="")
    ap.add_argument("--interval-ms", type=int, default=0)
    ap.add_argument("--max-in-flight", type=int, default=20)
    ap.add_argument("--message-timeout-ms", type=int, default=120000)
    a = ap.parse_args()
    {
        "produce": produce,
        "consume": consume,
        "send": send,
        "txn": txn,
        "read": read,
        "commit": commit,
        "committed": committed,
    }[a.role](a)


if __name__ == "__main__":
    main()
