/**
 * The fetch session cache (src/fetch_session.ts) on a manual clock: contexts for full,
 * incremental, closing and erroneous requests, trimmed answers, partition updates and
 * forgotten topics, topic-id sessions, and Kafka's eviction rules.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import type { FetchableTopicResponse, FetchRequest } from "../../protocol/messages/mod.ts";
import type { Msg } from "../support/msg.ts";
import {
  type FetchContext,
  FetchSessionCache,
  finishFetchSession,
  nextEpoch,
} from "../../src/fetch_session.ts";

const EVICTION_MS = 120_000;

function clockedCache(maxEntries: number, extra: { idBase?: number; idRange?: number } = {}) {
  const clock = { t: 1_000 };
  const cache = new FetchSessionCache({
    maxEntries,
    evictionMs: EVICTION_MS,
    now: () => clock.t,
    ...extra,
  });
  return { cache, clock };
}

interface Part {
  topic: string;
  partition: number;
  fetchOffset?: number;
  maxBytes?: number;
}

/** A v12 Fetch request (topics by name) naming `parts`. */
function request(
  sessionId: number,
  sessionEpoch: number,
  parts: Part[],
  forgotten: { topic: string; partitions: number[] }[] = [],
  replicaId = -1,
): FetchRequest {
  const topics: Msg[] = [];
  for (const p of parts) {
    let t = topics.find((x) => x.topic === p.topic);
    if (!t) topics.push(t = { topic: p.topic, partitions: [] });
    (t.partitions as Msg[]).push({
      partition: p.partition,
      currentLeaderEpoch: -1,
      fetchOffset: p.fetchOffset ?? 0,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes: p.maxBytes ?? 1024,
    });
  }
  return {
    replicaId,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics,
    forgottenTopicsData: forgotten,
    rackId: "",
    // Only the fields a session reads: the request stands for a decoded one.
  } as unknown as FetchRequest;
}

/** What a partition's read gave. */
interface Read {
  hw: number;
  lso?: number;
  logStart?: number;
  records?: number;
  error?: number;
}

/**
 * Answers a context's request as the handler does (every partition, request order) with
 * `read(topic, partition)`, runs finishFetchSession and `complete`; returns the response.
 */
function serve(ctx: FetchContext, read: (topic: string, partition: number) => Read): Msg {
  assert.ok(ctx.kind === "full" || ctx.kind === "incremental", `context is ${ctx.kind}`);
  const responses: Msg[] = [];
  for (const t of ctx.request.topics as Msg[]) {
    const partitions: Msg[] = [];
    responses.push({ topic: t.topic, topicId: t.topicId, partitions });
    for (const p of t.partitions as Msg[]) {
      const r = read((t.topic as string) || (t.topicId as string), p.partition as number);
      partitions.push({
        partitionIndex: p.partition,
        errorCode: r.error ?? 0,
        highWatermark: r.hw,
        lastStableOffset: r.lso ?? r.hw,
        logStartOffset: r.logStart ?? 0,
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: new Uint8Array(r.records ?? 0),
      });
    }
  }
  const sessionId = finishFetchSession(
    ctx.request,
    responses as unknown as FetchableTopicResponse[],
  );
  const replaced = ctx.complete(ctx.view.result);
  return replaced ?? { errorCode: 0, sessionId, responses };
}

/** topic-partition names of a response, in order. */
function names(resp: Msg): string[] {
  return (resp.responses as Msg[]).flatMap((t) =>
    (t.partitions as Msg[]).map((p) => `${t.topic || t.topicId}-${p.partitionIndex}`)
  );
}

/** topic-partition names (and fetch offsets) of a context's expanded request. */
function requested(ctx: FetchContext): string[] {
  assert.ok(ctx.kind === "full" || ctx.kind === "incremental");
  return (ctx.request.topics as Msg[]).flatMap((t) =>
    (t.partitions as Msg[]).map((p) =>
      `${t.topic || t.topicId}-${p.partition}@${p.fetchOffset}/${p.partitionMaxBytes}`
    )
  );
}

const AB = [{ topic: "a", partition: 0 }, { topic: "a", partition: 1 }, {
  topic: "b",
  partition: 0,
}];
const steady = (): Read => ({ hw: 10 });

Deno.test("nextEpoch: FINAL stays, the maximum wraps to 1", () => {
  assert.equal(nextEpoch(0), 1);
  assert.equal(nextEpoch(41), 42);
  assert.equal(nextEpoch(-1), -1);
  assert.equal(nextEpoch(0x7fffffff), 1);
});

Deno.test("full fetch (epoch 0) creates a session with epoch 1 and answers everything", () => {
  const { cache } = clockedCache(10);
  const ctx = cache.newContext(request(0, 0, AB), 12);
  assert.equal(ctx.kind, "full");
  const resp = serve(ctx, steady);
  assert.ok(resp.sessionId > 0);
  assert.deepEqual(names(resp), ["a-0", "a-1", "b-0"]);
  const s = cache.get(resp.sessionId)!;
  assert.equal(s.epoch, 1);
  assert.equal(s.size, 3);
  assert.equal(cache.totalPartitions, 3);
  assert.equal(s.partitions.get("a:1")!.highWatermark, 10);
});

Deno.test("incremental fetch with no partitions reads all, answers only those that changed", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  const ctx = cache.newContext(request(id, 1, []), 12);
  assert.equal(ctx.kind, "incremental");
  assert.deepEqual(requested(ctx), ["a-0@0/1024", "a-1@0/1024", "b-0@0/1024"]);
  // a-1 has new records; b-0's high watermark moved; a-0 is as before.
  const resp = serve(
    ctx,
    (t, p) => t === "a" && p === 1 ? { hw: 12, records: 70 } : t === "b" ? { hw: 11 } : { hw: 10 },
  );
  assert.equal(resp.errorCode, 0);
  assert.equal(resp.sessionId, id);
  assert.deepEqual(names(resp), ["a-1", "b-0"]);
  assert.equal(cache.get(id)!.epoch, 2);
  // Nothing changed since: an empty answer.
  const again = serve(
    cache.newContext(request(id, 2, []), 12),
    (t, p) => t === "a" && p === 1 ? { hw: 12 } : t === "b" ? { hw: 11 } : { hw: 10 },
  );
  assert.deepEqual(again.responses, []);
  assert.equal(again.sessionId, id);
  // Log start and last stable offset changes are answered too.
  const moved = serve(
    cache.newContext(request(id, 3, []), 12),
    (t, p) =>
      t === "a" && p === 1 ? { hw: 12, logStart: 5 } : t === "b" ? { hw: 11, lso: 9 } : { hw: 10 },
  );
  // (a-1 returned records, so it is fetched last now.)
  assert.deepEqual(names(moved), ["b-0", "a-1"]);
});

Deno.test("partitions that returned records move to the end of the session's order", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  serve(
    cache.newContext(request(id, 1, []), 12),
    (t, p) => t === "a" && p === 0 ? { hw: 11, records: 10 } : { hw: 10 },
  );
  const ctx = cache.newContext(request(id, 2, []), 12);
  assert.deepEqual(requested(ctx), ["a-1@0/1024", "b-0@0/1024", "a-0@0/1024"]);
});

Deno.test("incremental requests update fetch offset and max bytes, add and forget partitions", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  const ctx = cache.newContext(
    request(id, 1, [{ topic: "a", partition: 1, fetchOffset: 7, maxBytes: 99 }, {
      topic: "c",
      partition: 2,
      fetchOffset: 3,
    }], [{ topic: "b", partitions: [0, 5] }]),
    12,
  );
  assert.deepEqual(requested(ctx), ["a-0@0/1024", "a-1@7/99", "c-2@3/1024"]);
  // The new partition has never been answered: it is included though nothing changed.
  const resp = serve(ctx, steady);
  assert.deepEqual(names(resp), ["c-2"]);
  assert.equal(cache.get(id)!.size, 3);
  assert.equal(cache.totalPartitions, 3);
});

Deno.test("forgetting every partition closes the session; the request is sessionless", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  const ctx = cache.newContext(
    request(id, 1, [], [{ topic: "a", partitions: [0, 1] }, { topic: "b", partitions: [0] }]),
    12,
  );
  assert.equal(ctx.kind, "sessionless");
  assert.equal(cache.get(id), undefined);
  assert.equal(cache.size, 0);
  assert.equal(cache.totalPartitions, 0);
});

Deno.test("session errors: unknown id, wrong epoch; epoch -1 closes, epoch 0 replaces", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  assert.deepEqual(cache.newContext(request(id + 1, 1, []), 12), {
    kind: "error",
    errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  });
  assert.deepEqual(cache.newContext(request(0, 1, []), 12), {
    kind: "error",
    errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  });
  for (const epoch of [2, 0x7fffffff, -2]) {
    assert.deepEqual(cache.newContext(request(id, epoch, []), 12), {
      kind: "error",
      errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    });
  }
  // The errors did not move the session on.
  assert.equal(cache.get(id)!.epoch, 1);
  // A full request naming the session closes it and opens another.
  const replaced = serve(cache.newContext(request(id, 0, AB), 12), steady).sessionId;
  assert.notEqual(replaced, id);
  assert.equal(cache.get(id), undefined);
  assert.equal(cache.size, 1);
  // Epoch -1 closes without a new session.
  assert.equal(cache.newContext(request(replaced, -1, AB), 12).kind, "sessionless");
  assert.equal(cache.size, 0);
  assert.equal(cache.newContext(request(replaced, 1, []), 12).kind, "error");
  // Versions before 7 have no sessions.
  assert.equal(cache.newContext(request(0, 0, AB), 6).kind, "sessionless");
  assert.equal(cache.size, 0);
});

Deno.test("a duplicate incremental request that lost the race gets INVALID_FETCH_SESSION_EPOCH", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  const first = cache.newContext(request(id, 1, []), 12);
  const second = cache.newContext(request(id, 2, []), 12);
  assert.equal(serve(second, steady).errorCode, 0);
  const late = serve(first, steady);
  assert.equal(late.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  assert.equal(late.sessionId, id);
  assert.deepEqual(late.responses, []);
});

Deno.test("an errored partition is answered until the error clears, then once more", () => {
  const { cache } = clockedCache(10);
  const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  const gone = (t: string): Read =>
    t === "b" ? { hw: -1, logStart: -1, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } : { hw: 10 };
  for (const epoch of [1, 2]) {
    const resp = serve(cache.newContext(request(id, epoch, []), 12), gone);
    assert.deepEqual(names(resp), ["b-0"]);
    assert.equal(
      (resp.responses as Msg[])[0].partitions[0].errorCode,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
  }
  assert.equal(cache.get(id)!.partitions.get("b:0")!.highWatermark, -1);
  // Back (re-created): answered once with its offsets, then left out.
  assert.deepEqual(names(serve(cache.newContext(request(id, 3, []), 12), steady)), ["b-0"]);
  assert.deepEqual(names(serve(cache.newContext(request(id, 4, []), 12), steady)), []);
});

Deno.test("topic-id sessions (v13+): keyed by id, forgotten by id; versions must agree", () => {
  const { cache } = clockedCache(10);
  const idA = "AAAAAAAAAAAAAAAAAAAAAQ";
  const idB = "AAAAAAAAAAAAAAAAAAAAAg";
  const v13 = (sessionId: number, epoch: number, ids: string[], forget: string[] = []) =>
    ({
      ...request(sessionId, epoch, []),
      topics: ids.map((topicId) => ({
        topicId,
        partitions: [{
          partition: 0,
          currentLeaderEpoch: -1,
          fetchOffset: 4,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 512,
        }],
      })),
      forgottenTopicsData: forget.map((topicId) => ({ topicId, partitions: [0] })),
    }) as unknown as FetchRequest;
  const full = cache.newContext(v13(0, 0, [idA, idB]), 13);
  assert.deepEqual(requested(full), [`${idA}-0@4/512`, `${idB}-0@4/512`]);
  const id = serve(full, steady).sessionId;
  assert.equal(cache.get(id)!.usesTopicIds, true);
  // A v12 request on a topic-id session, and a v13 one on a name session.
  assert.deepEqual(cache.newContext(request(id, 1, []), 12), {
    kind: "error",
    errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  });
  const byName = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  assert.deepEqual(cache.newContext(v13(byName, 1, []), 13), {
    kind: "error",
    errorCode: ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
  });
  const inc = cache.newContext(v13(id, 1, [], [idA]), 13);
  assert.deepEqual(requested(inc), [`${idB}-0@4/512`]);
});

Deno.test("max.incremental.fetch.session.cache.slots 0: no session is ever created", () => {
  const { cache } = clockedCache(0);
  assert.equal(cache.newContext(request(0, 0, AB), 12).kind, "sessionless");
  assert.equal(cache.size, 0);
});

Deno.test("session ids stay in the cache's range (a worker's share)", () => {
  const range = Math.floor(0x7fffffff / 4);
  const { cache } = clockedCache(50, { idBase: 2 * range, idRange: range });
  for (let i = 0; i < 50; i++) {
    const id = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
    assert.ok(id > 2 * range && id < 3 * range, `id ${id}`);
  }
  assert.equal(cache.size, 50);
});

Deno.test("eviction: full cache keeps fresh sessions; a stale one (LRU) makes room", () => {
  const { cache, clock } = clockedCache(2);
  const s1 = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  clock.t += 10;
  const s2 = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  clock.t += 10;
  // Both recent, none bigger: no room, the fetch is served without a session.
  assert.equal(cache.newContext(request(0, 0, AB), 12).kind, "sessionless");
  assert.equal(cache.size, 2);
  // s1 used again; after the eviction time s2 is the least recently used and stale.
  serve(cache.newContext(request(s1, 1, []), 12), steady);
  clock.t += EVICTION_MS + 1 - 10;
  const s3 = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  assert.ok(s3 > 0);
  assert.equal(cache.get(s2), undefined);
  assert.ok(cache.get(s1));
  assert.equal(cache.evictions, 1);
});

Deno.test("eviction: a bigger session evicts the smallest session that is not recent", () => {
  const { cache, clock } = clockedCache(2);
  const small = serve(cache.newContext(request(0, 0, AB.slice(0, 1)), 12), steady).sessionId;
  const mid = serve(cache.newContext(request(0, 0, AB.slice(0, 2)), 12), steady).sessionId;
  // Both older than the eviction time but used just now: not stale, but evictable by all.
  clock.t += EVICTION_MS + 1;
  serve(cache.newContext(request(small, 1, []), 12), steady);
  serve(cache.newContext(request(mid, 1, []), 12), steady);
  // Same size as the smallest: not worth more, no eviction.
  assert.equal(cache.newContext(request(0, 0, AB.slice(0, 1)), 12).kind, "sessionless");
  const big = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  assert.ok(big > 0);
  assert.equal(cache.get(small), undefined);
  assert.ok(cache.get(mid));
  assert.equal(cache.totalPartitions, 5);
});

Deno.test("eviction: privileged (follower) sessions evict recent unprivileged ones, not the reverse", () => {
  const { cache, clock } = clockedCache(1);
  const consumer = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  clock.t += 5;
  // A consumer's new session cannot evict a recent one, even a bigger one.
  assert.equal(
    cache.newContext(request(0, 0, [...AB, { topic: "c", partition: 0 }]), 12).kind,
    "sessionless",
  );
  // A follower's (replica id 0) can, even a smaller one.
  const follower = serve(cache.newContext(request(0, 0, AB.slice(0, 1), [], 0), 12), steady);
  assert.ok(follower.sessionId > 0);
  assert.equal(cache.get(consumer), undefined);
  assert.equal(cache.get(follower.sessionId)!.privileged, true);
  // A recent privileged session is safe from consumers of any size.
  clock.t += 5;
  assert.equal(
    cache.newContext(request(0, 0, [...AB, { topic: "c", partition: 0 }]), 12).kind,
    "sessionless",
  );
  assert.ok(cache.get(follower.sessionId));
});

Deno.test("a session evicted while its fetch waits still answers it; its id is unknown next", () => {
  const { cache, clock } = clockedCache(1);
  const id = serve(cache.newContext(request(0, 0, AB.slice(0, 1)), 12), steady).sessionId;
  clock.t += EVICTION_MS + 1;
  const waiting = cache.newContext(request(id, 1, []), 12);
  // Meanwhile a bigger session evicts it (old enough, fewer partitions).
  const big = serve(cache.newContext(request(0, 0, AB), 12), steady).sessionId;
  assert.ok(big > 0);
  assert.equal(cache.get(id), undefined);
  const resp = serve(waiting, () => ({ hw: 11, records: 5 }));
  assert.equal(resp.errorCode, 0);
  assert.equal(resp.sessionId, id);
  assert.deepEqual(names(resp), ["a-0"]);
  assert.deepEqual(cache.newContext(request(id, 2, []), 12), {
    kind: "error",
    errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  });
});
