import assert from "node:assert/strict";
import { ClusterMetadataCache } from "../../src/cluster/cluster_metadata.ts";
import { countIsrChanges, isrChange } from "../../src/cluster/isr_change_counter.ts";
import type { PartitionState } from "../../src/cluster/cluster_records.ts";
import type { KeyValue } from "../../src/cluster/metadata_store.ts";

const state = (leader: number, leaderEpoch: number, isr: number[]): PartitionState => ({
  leader,
  leaderEpoch,
  replicas: [1, 2, 3],
  isr,
  partitionEpoch: 0,
});

Deno.test("isrChange: only ISR writes of a partition led here, at the same epoch", () => {
  assert.equal(isrChange(1, state(1, 0, [1, 2, 3]), state(1, 0, [1, 2])), "shrink");
  assert.equal(isrChange(1, state(1, 0, [1, 2]), state(1, 0, [1, 2, 3])), "expand");
  assert.equal(isrChange(1, state(1, 0, [1, 2]), state(1, 0, [2, 1])), null, "same members");
  assert.equal(isrChange(2, state(1, 0, [1, 2, 3]), state(1, 0, [1, 2])), null, "led elsewhere");
  assert.equal(isrChange(1, state(2, 3, [1, 2]), state(1, 4, [1])), null, "an election");
  assert.equal(isrChange(1, state(1, 3, [1, 2]), state(1, 4, [1])), null, "new leader epoch");
  assert.equal(isrChange(1, undefined, state(1, 0, [1, 2, 3])), null, "a new partition");
});

Deno.test("countIsrChanges counts the watched writes of the metadata cache", () => {
  const cache = new ClusterMetadataCache(1);
  const sink = { isrShrinks: 0, isrExpands: 0 };
  const stop = countIsrChanges(cache, sink);
  let rev = 1;
  const put = (s: PartitionState) => {
    const kv: KeyValue = {
      key: "partitions/t/0",
      value: new TextEncoder().encode(JSON.stringify(s)),
      modRevision: ++rev,
      createRevision: 2,
      version: rev,
      lease: "0",
    };
    cache.apply([{ type: "put", kv }]);
  };
  put(state(1, 0, [1, 2, 3]));
  put(state(1, 0, [1, 3]));
  put(state(1, 0, [1]));
  put(state(1, 0, [1, 2]));
  assert.deepEqual(sink, { isrShrinks: 2, isrExpands: 1 });
  stop();
  put(state(1, 0, [1]));
  assert.deepEqual(sink, { isrShrinks: 2, isrExpands: 1 });
});
