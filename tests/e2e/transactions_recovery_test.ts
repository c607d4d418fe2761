/**
 * Transactions end to end when things go wrong: the transaction timeout aborts and fences, a
 * broker killed with SIGKILL mid-transaction aborts it on restart, and a transaction left in
 * PrepareCommit gets its markers written on load.
 */
import assert from "node:assert/strict";
import { InitProducerIdRequest, InitProducerIdResponse } from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import { encodeTxnKey, encodeTxnValue } from "../../src/txn/transaction_log.ts";
import { partitionFor } from "../../src/internal_topic.ts";
import { TxnState } from "../../src/txn/transaction_metadata.ts";
import { LogTxnStore } from "../../src/txn/txn_log_store.ts";
import { BrokerProcess, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";
import {
  client,
  describeTxn,
  errorType,
  FENCED,
  kcatValues,
  latestOffset,
  waitFor,
} from "../support/e2e_transactions_fixtures.ts";

Deno.test(
  "transaction timeout: the open transaction is aborted, the LSO released, the producer fenced",
  async () => {
    const b = await testBroker({
      config: { "transaction.abort.timed.out.transaction.cleanup.interval.ms": 100 },
    });
    const kafka = client(b.address);
    const admin = kafka.admin();
    const topic = "timeout-t";
    const txp = kafka.producer({
      transactionalId: "slow",
      idempotent: true,
      maxInFlightRequests: 1,
      // Long enough that the "still held" checks below finish first even on a loaded machine.
      transactionTimeout: 5000,
    });
    const plain = kafka.producer();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await txp.connect();
      await plain.connect();
      const txn = await txp.transaction();
      await txn.send({ topic, messages: [{ value: "never-1" }, { value: "never-2" }] });
      const sentAt = Date.now();
      await plain.send({ topic, messages: [{ value: "later-1" }, { value: "later-2" }] });
      assert.equal(await latestOffset(b.port, topic, 0, true), 0); // held by the transaction
      assert.equal(await latestOffset(b.port, topic, 0, false), 4);
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), []);
      await waitFor(
        "the timeout abort",
        async () => (await latestOffset(b.port, topic, 0, true)) === 5,
      );
      // Aborted by the timeout (5 s), not before it.
      assert.ok(Date.now() - sentAt >= 4500);
      assert.equal((await describeTxn(b.port, "slow")).transactionState, "CompleteAbort");
      assert.deepEqual(await kcatValues(b.address, topic, 0, "read_committed"), [
        "later-1",
        "later-2",
      ]);
      // The producer that let its transaction expire is fenced.
      let commitError = "";
      await txn.commit().catch((e) => commitError = errorType(e));
      assert.ok(FENCED.includes(commitError), `commit failed with ${commitError}`);
    } finally {
      await txp.disconnect().catch(() => {});
      await plain.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      await b.stop();
    }
  },
);

Deno.test(
  "kill -9 mid-transaction: after restart the open transaction is aborted, nothing partial is read",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-txn-kill-" });
    const topic = "kill-t";
    const settings = ["--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=100"];
    let proc = await BrokerProcess.start(dataDir, settings);
    try {
      let kafka = client(proc.address);
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      await admin.disconnect();
      const txp = kafka.producer({
        transactionalId: "crashy",
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 2000,
      });
      await txp.connect();
      const a = await txp.transaction();
      await a.send({
        topic,
        messages: [{ partition: 0, value: "A0" }, { partition: 1, value: "A1" }],
      });
      await a.commit();
      const b = await txp.transaction();
      await b.send({
        topic,
        messages: [{ partition: 0, value: "B0" }, { partition: 1, value: "B1" }],
      });
      const before = await describeTxn(proc.port, "crashy");
      assert.equal(before.transactionState, "Ongoing");
      assert.equal(await proc.kill("SIGKILL"), 137);
      await txp.disconnect().catch(() => {});

      proc = await BrokerProcess.start(dataDir, settings);
      // Right after the restart B is still open: read_committed shows A only.
      for (const p of [0, 1]) {
        assert.deepEqual(await kcatValues(proc.address, topic, p, "read_committed"), [`A${p}`]);
      }
      // B times out (its start time survived the crash) and is aborted.
      await waitFor(
        "the abort of B",
        async () => (await describeTxn(proc.port, "crashy")).transactionState === "CompleteAbort",
      );
      const aborted = await describeTxn(proc.port, "crashy");
      assert.equal(aborted.producerId, before.producerId);
      assert.equal(aborted.producerEpoch, before.producerEpoch + 1);
      for (const p of [0, 1]) {
        assert.equal(
          await latestOffset(proc.port, topic, p, true),
          await latestOffset(proc.port, topic, p, false),
        );
      }
      // The same transactional id continues after the restart, with the next epoch.
      kafka = client(proc.address);
      const again = kafka.producer({
        transactionalId: "crashy",
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await again.connect();
      const c = await again.transaction();
      await c.send({
        topic,
        messages: [{ partition: 0, value: "C0" }, { partition: 1, value: "C1" }],
      });
      await c.commit();
      await again.disconnect();
      const after = await describeTxn(proc.port, "crashy");
      assert.equal(after.producerId, before.producerId);
      assert.equal(after.producerEpoch, before.producerEpoch + 2);
      for (const p of [0, 1]) {
        assert.deepEqual(await kcatValues(proc.address, topic, p, "read_committed"), [
          `A${p}`,
          `C${p}`,
        ]);
        assert.deepEqual(await kcatValues(proc.address, topic, p, "read_uncommitted"), [
          `A${p}`,
          `B${p}`,
          `C${p}`,
        ]);
      }
    } finally {
      await proc.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "restart with a transaction in PrepareCommit: markers are written on load, the data commits",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "tributary-txn-prepare-" });
    const topic = "prepared-t";
    let b = await testBroker({ dataDir, keepDir: true });
    try {
      await b.broker.createTopic(topic, 2);
      const init = await RawClient.once(b.port, InitProducerIdRequest, InitProducerIdResponse, 4, {
        transactionalId: "prep",
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      const { producerId, producerEpoch } = init;
      const added = await b.broker.transactions.handleAddPartitionsToTransaction(
        "prep",
        producerId,
        producerEpoch,
        [{ topic, partition: 0 }, { topic, partition: 1 }],
      );
      assert.equal(added, 0);
      for (const partition of [0, 1]) {
        const batch = encodeRecordBatch({
          isTransactional: true,
          producerId,
          producerEpoch,
          baseSequence: 0,
          records: [{ value: `p${partition}` }],
        });
        await b.broker.partition(topic, partition)!.append(batch);
      }
      // The decision reaches the log, then the broker stops before any marker is written.
      const md = b.broker.transactions.stateManager.get("prep")!;
      const store = new LogTxnStore(b.broker, 50, 1 << 20);
      await store.append(
        partitionFor("prep", 50),
        encodeTxnKey("prep"),
        encodeTxnValue({ ...md.snapshot(), txnState: TxnState.PrepareCommit }),
      );
      await b.close();
      b = await testBroker({ dataDir, keepDir: true });
      assert.equal((await describeTxn(b.port, "prep")).transactionState, "CompleteCommit");
      for (const p of [0, 1]) {
        assert.deepEqual(await kcatValues(b.address, topic, p, "read_committed"), [`p${p}`]);
        assert.equal(await latestOffset(b.port, topic, p, true), 2); // record + marker
      }
    } finally {
      await b.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
