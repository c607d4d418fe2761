/**
 * The coordinators' storage contracts (CoordinatorLog, TxnLogStore), each run against the
 * in-memory fake used by the unit tests and the implementation over real partition logs.
 */
import { GROUP_METADATA_TOPIC, GroupMetadataLog } from "../../src/group/group_metadata_log.ts";
import { type InternalTopicHost, partitionFor } from "../../src/internal_topic.ts";
import { LogMarkerWriter, LogTxnStore } from "../../src/txn/txn_log_store.ts";
import { LogManager } from "../../storage/log_manager.ts";
import { runCoordinatorLogConformance } from "../support/coordinator_log_conformance.ts";
import { MemoryCoordinatorLog } from "../support/memory_coordinator_log.ts";
import { MemoryTxnLogStore } from "../support/memory_txn_log_store.ts";
import { runTxnLogStoreConformance } from "../support/txn_log_store_conformance.ts";

/** Internal topics straight on a LogManager, as the broker provides them. */
function hostOf(lm: LogManager): InternalTopicHost {
  return {
    topic: (name) => lm.getTopic(name),
    partition: (topic, p) => lm.getPartition(topic, p),
    createTopic: (name, partitions) => lm.createTopic(name, partitions),
  };
}

/** A LogManager on a fresh directory that `reopen` closes and opens again. */
async function logs(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  let lm = await LogManager.open(dir);
  return {
    get lm() {
      return lm;
    },
    async reopen() {
      await lm.close();
      lm = await LogManager.open(dir);
      return lm;
    },
    async cleanup() {
      await lm.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

runCoordinatorLogConformance("memory", () => {
  const log = new MemoryCoordinatorLog(3);
  return Promise.resolve({
    log,
    partitions: 3,
    marker: (groupId, producerId, commit) =>
      Promise.resolve(log.marker(producerId, commit, groupId)),
    reopen: () => Promise.resolve(log),
    cleanup: () => Promise.resolve(),
  });
});

runCoordinatorLogConformance("__consumer_offsets", async () => {
  const PARTITIONS = 3;
  const l = await logs("tributary-group-log-");
  const markers = () =>
    new LogMarkerWriter({
      hasPartition: (t, p) => l.lm.getPartition(t, p) !== undefined,
      appendMarker: async (t, p, batch) => {
        await l.lm.getPartition(t, p)!.append(batch, { origin: "coordinator" });
      },
    });
  return {
    log: new GroupMetadataLog(hostOf(l.lm), PARTITIONS),
    partitions: PARTITIONS,
    async marker(groupId, producerId, commit) {
      const tp = { topic: GROUP_METADATA_TOPIC, partition: partitionFor(groupId, PARTITIONS) };
      await markers().writeMarker(tp, producerId, 0, commit, 0);
    },
    reopen: async () => new GroupMetadataLog(hostOf(await l.reopen()), PARTITIONS),
    cleanup: () => l.cleanup(),
  };
});

runTxnLogStoreConformance("memory", () => {
  const store = new MemoryTxnLogStore(4);
  return Promise.resolve({
    store,
    partitions: 4,
    reopen: () => Promise.resolve(store),
    cleanup: () => Promise.resolve(),
  });
});

runTxnLogStoreConformance("__transaction_state", async () => {
  const l = await logs("tributary-txn-log-");
  return {
    store: new LogTxnStore(hostOf(l.lm), 4, 1 << 20),
    partitions: 4,
    reopen: async () => new LogTxnStore(hostOf(await l.reopen()), 4, 1 << 20),
    cleanup: () => l.cleanup(),
  };
});
