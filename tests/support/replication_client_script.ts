/**
 * The confluent-kafka (librdkafka) script the replication end-to-end tests drive a cluster
 * with: `python(REPLICATION_CLIENT_PY, [bootstrap, topic, phase, ...])`, one phase a run.
 * - `create`: one partition at replication factor 3; or, given `[assignment JSON, configs
 *   JSON]`, as many partitions as the assignment names, placed as it says, with the configs.
 * - `produce start n`: `v{start}`..`v{start+n-1}` to partition 0, idempotent, acks=all.
 * - `commit group offset` / `committed group`: a group's committed offset of partition 0.
 * - `consume n`: the first n values of partition 0, comma-separated.
 * Every run ends by printing `ok`.
 */
export const REPLICATION_CLIENT_PY = `
import sys, json
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
addr, topic, phase = sys.argv[1], sys.argv[2], sys.argv[3]
if phase == "create":
    admin = AdminClient({"bootstrap.servers": addr})
    if len(sys.argv) > 4:
        assignment = json.loads(sys.argv[4])
        configs = json.loads(sys.argv[5])
        new = NewTopic(topic, num_partitions=len(assignment), replica_assignment=assignment, config=configs)
    else:
        new = NewTopic(topic, num_partitions=1, replication_factor=3)
    f = admin.create_topics([new])
    f[topic].result(30)
elif phase == "produce":
    start, n = int(sys.argv[4]), int(sys.argv[5])
    p = Producer({"bootstrap.servers": addr, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 2})
    errors = []
    for i in range(start, start + n):
        p.produce(topic, value=f"v{i}".encode(), partition=0,
                  on_delivery=lambda e, m: errors.append(e) if e else None)
    assert p.flush(60) == 0 and not errors, errors
elif phase == "commit":
    c = Consumer({"bootstrap.servers": addr, "group.id": sys.argv[4], "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition(topic, 0, int(sys.argv[5]))], asynchronous=False)
    c.close()
elif phase == "committed":
    c = Consumer({"bootstrap.servers": addr, "group.id": sys.argv[4], "enable.auto.commit": False})
    print(c.committed([TopicPartition(topic, 0)], timeout=30)[0].offset)
    c.close()
elif phase == "consume":
    n = int(sys.argv[4])
    c = Consumer({"bootstrap.servers": addr, "group.id": "unused", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    while len(got) < n:
        m = c.poll(15)
        assert m is not None, len(got)
        assert m.error() is None, m.error()
        got.append(m.value().decode())
    c.close()
    print(",".join(got))
print("ok")
`;
