/**
 * Producer-id blocks shared by the brokers of a cluster (Kafka's ProducerIdManager, the
 * ZooKeeper shape of KIP-730): one key in the metadata store holds the last block handed out
 * (`{"version":1,"broker":<id>,"block_start":<first>,"block_end":<last>}`); a broker takes the
 * next block by a compare-and-swap on that key's modRevision, so two brokers never get the
 * same block however their requests interleave. A broker hands ids out of its block and
 * fetches the next block in the background once 90% of the current one is used, as Kafka's
 * RPCProducerIdManager does, so InitProducerId rarely waits on the store.
 *
 * A single broker without a store keeps its blocks on disk (src/producer_id_manager.ts).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { log } from "../log.ts";
import { type MetadataStore, valueText } from "./metadata_store.ts";

/** The key, relative to the store's prefix (`etcd.prefix`). */
export const PRODUCER_ID_BLOCK_KEY = "producer-id-block";
/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Share of a block used before the next one is fetched (Kafka's prefetch point). */
const PREFETCH_FRACTION = 0.9;
/** Kafka's producer ids are int64, but an id above 2^53 would lose precision here. */
const MAX_PRODUCER_ID = Number.MAX_SAFE_INTEGER;

export interface ProducerIdBlock {
  /** The broker the block was given to. */
  assignedBrokerId: number;
  firstProducerId: number;
  size: number;
}

/** The stored JSON of a block, in Kafka's ZooKeeper field names. */
export function encodeBlock(b: ProducerIdBlock): string {
  return JSON.stringify({
    version: 1,
    broker: b.assignedBrokerId,
    block_start: b.firstProducerId,
    block_end: b.firstProducerId + b.size - 1,
  });
}

export function decodeBlock(text: string): ProducerIdBlock {
  const j = JSON.parse(text);
  const start = Number(j?.block_start), end = Number(j?.block_end);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `bad producer id block: ${text}`);
  }
  return { assignedBrokerId: Number(j.broker), firstProducerId: start, size: end - start + 1 };
}

export interface ProducerIdBlockOptions {
  blockSize?: number;
  /** Pause before retrying a block request the store failed (not a lost CAS: that is at once). */
  retryBackoffMs?: number;
}

export class ProducerIdBlockManager {
  private readonly blockSize: number;
  private readonly retryBackoffMs: number;
  private current: ProducerIdBlock | null = null;
  private nextId = 0;
  private prefetched: ProducerIdBlock | null = null;
  private fetching: Promise<ProducerIdBlock> | null = null;
  private closed = false;

  constructor(
    private readonly store: Pick<MetadataStore, "get" | "casPut">,
    readonly brokerId: number,
    opts: ProducerIdBlockOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? PRODUCER_ID_BLOCK_SIZE;
    this.retryBackoffMs = opts.retryBackoffMs ?? 100;
  }

  /**
   * The next producer id. While the store cannot give a block the caller gets
   * COORDINATOR_LOAD_IN_PROGRESS, which producers retry (as Kafka answers then).
   */
  async next(): Promise<number> {
    for (;;) {
      const b = this.current;
      if (b && !this.exhausted) {
        const id = this.nextId++;
        if (this.nextId >= b.firstProducerId + b.size * PREFETCH_FRACTION) this.prefetch();
        return id;
      }
      if (this.prefetched) {
        this.install(this.prefetched);
        this.prefetched = null;
        continue;
      }
      try {
        this.offer(await this.fetchBlock());
      } catch (e) {
        throw new KafkaError(
          ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
          `no producer id block available: ${(e as Error).message ?? e}`,
        );
      }
    }
  }

  /** Stops background fetching (a block fetched meanwhile is simply never used). */
  close(): void {
    this.closed = true;
  }

  private get exhausted(): boolean {
    const b = this.current;
    return !b || this.nextId >= b.firstProducerId + b.size;
  }

  private install(b: ProducerIdBlock): void {
    this.current = b;
    this.nextId = b.firstProducerId;
    if (this.prefetched === b) this.prefetched = null;
  }

  /** A fetched block: in use at once when the current one is used up, else kept for later. */
  private offer(b: ProducerIdBlock): void {
    if (b === this.current || b === this.prefetched) return;
    if (this.exhausted) this.install(b);
    else this.prefetched ??= b;
  }

  private prefetch(): void {
    if (this.prefetched || this.fetching || this.closed) return;
    this.fetchBlock().then((b) => this.offer(b), (e) => {
      if (!this.closed) {
        log.warn(`prefetching a producer id block failed: ${(e as Error).message ?? e}`);
      }
    });
  }

  /** One block request at a time; concurrent callers share it. */
  private fetchBlock(): Promise<ProducerIdBlock> {
    this.fetching ??= this.allocate().finally(() => (this.fetching = null));
    return this.fetching;
  }

  /** Takes the block after the stored one by CAS, rereading after a lost race. */
  private async allocate(): Promise<ProducerIdBlock> {
    let kv = await this.store.get(PRODUCER_ID_BLOCK_KEY);
    for (let attempt = 0;; attempt++) {
      if (this.closed) throw new KafkaError(ErrorCode.NOT_COORDINATOR, "broker is closing");
      const last = kv ? decodeBlock(valueText(kv)) : null;
      const first = last ? last.firstProducerId + last.size : 0;
      if (first + this.blockSize - 1 > MAX_PRODUCER_ID) {
        throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, "producer ids exhausted");
      }
      const block = {
        assignedBrokerId: this.brokerId,
        firstProducerId: first,
        size: this.blockSize,
      };
      const r = await this.store.casPut(
        PRODUCER_ID_BLOCK_KEY,
        encodeBlock(block),
        kv?.modRevision ?? 0,
      );
      if (r.succeeded) return block;
      // Another broker took a block first: go on from the one it took.
      kv = r.current ?? await this.store.get(PRODUCER_ID_BLOCK_KEY);
      if (attempt > 0 && attempt % 10 === 0) {
        await new Promise((res) => setTimeout(res, this.retryBackoffMs));
      }
    }
  }
}
