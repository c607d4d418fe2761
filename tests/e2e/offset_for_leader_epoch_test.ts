/**
 * OffsetForLeaderEpoch on one broker (every partition led at epoch 0): answered from the
 * leader epoch cache, as Kafka's leader answers: an empty partition's epoch 0 ends at the log
 * end (Kafka's leader starts its epoch there), a written one's at its log end, an epoch above
 * every known one is undefined (-1/-1), a current leader epoch above ours UNKNOWN_LEADER_EPOCH.
 */
import assert from "node:assert/strict";
import {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from "../../protocol/messages/mod.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { testBroker } from "../support/helpers.ts";
import { produce } from "../support/replication_fixtures.ts";

Deno.test("OffsetForLeaderEpoch alone: from the epoch cache, Kafka's answers", async () => {
  const b = await testBroker();
  const conn = await BrokerConnection.connect(b.address);
  try {
    await b.broker.createTopic("oe", 1);
    const ask = async (leaderEpoch: number, currentLeaderEpoch = -1) => {
      const r = await conn.request(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, {
        replicaId: -1,
        topics: [{ topic: "oe", partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }],
      });
      const p = r.topics[0].partitions[0];
      return [p.errorCode, p.leaderEpoch, p.endOffset];
    };
    assert.deepEqual(await ask(0), [0, 0, 0], "empty");
    assert.deepEqual((await produce(b.address, "oe", 0, ["a", "b", "c"], -1)).errorCode, 0);
    assert.deepEqual(await ask(0), [0, 0, 3]);
    assert.deepEqual(await ask(0, 0), [0, 0, 3]);
    assert.deepEqual(await ask(1), [0, -1, -1], "an epoch past every known one");
    assert.deepEqual(await ask(0, 1), [ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1]);
  } finally {
    conn.close();
    await b.stop();
  }
});
