/** Raw-protocol helpers for the tests of old protocol versions (legacy message sets). */
import assert from "node:assert/strict";
import { innerRecords, readLegacyEntries } from "../../protocol/legacy_records.ts";
import {
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "./msg.ts";
import type { RawClient } from "./raw_client.ts";

const enc = new TextEncoder();
export const dec = new TextDecoder();
export const b = (s: string) => enc.encode(s);
/** A minute ago, to the millisecond: recent enough not to roll segments (segment.ms). */
export const TS = Date.now() - 60_000;

export function produceBody(topic: string, records: Uint8Array, partition = 0, acks = -1): Msg {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  };
}

export async function produce(
  c: RawClient,
  version: number,
  topic: string,
  records: Uint8Array,
  partition = 0,
): Promise<Msg> {
  const r = await c.call(
    ProduceRequest,
    ProduceResponse,
    version,
    produceBody(topic, records, partition),
  );
  return r.responses[0].partitionResponses[0];
}

export async function fetch(
  c: RawClient,
  version: number,
  topic: string,
  offset: number,
  partition = 0,
  partitionMaxBytes = 1 << 20,
): Promise<Msg> {
  const r = await c.call(FetchRequest, FetchResponse, version, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    topics: [{
      topic,
      partitions: [{ partition, fetchOffset: offset, partitionMaxBytes }],
    }],
  });
  assert.equal(r.responses.length, 1);
  return r.responses[0].partitions[0];
}

/** What a legacy message set holds, wrappers opened: [offset, magic, timestamp, key, value]. */
export function contents(
  set: Uint8Array,
): [number, number, number, string | null, string | null][] {
  const out: [number, number, number, string | null, string | null][] = [];
  for (const e of readLegacyEntries(set)) {
    assert.ok(e.crcValid, `CRC of message ${e.offset}`);
    const recs = (e.attributes & 7) === 0 ? [{ ...e, absoluteOffset: e.offset }] : innerRecords(e);
    for (const r of recs) {
      out.push([
        r.absoluteOffset,
        r.magic,
        r.timestamp,
        r.key && dec.decode(r.key),
        r.value && dec.decode(r.value),
      ]);
    }
  }
  return out;
}

export async function listOffsetsV0(
  c: RawClient,
  topic: string,
  timestamp: number,
  maxNumOffsets: number,
  partition = 0,
): Promise<Msg> {
  const r = await c.call(ListOffsetsRequest, ListOffsetsResponse, 0, {
    replicaId: -1,
    topics: [{
      name: topic,
      partitions: [{ partitionIndex: partition, timestamp, maxNumOffsets }],
    }],
  });
  return r.topics[0].partitions[0];
}
