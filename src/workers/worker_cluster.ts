/**
 * One worker's view of the others: who owns which partition, a PeerLink to every other
 * worker, and the methods this worker serves to them. Worker 0 is the controller: it writes
 * topics.json, runs the group and transaction coordinators and answers every request that is
 * not Produce, Fetch, ListOffsets, Metadata or ApiVersions (the other workers forward those
 * frames to it). Partition operations go straight to the partition's owner.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { CONTROLLER_WORKER, ownerOf } from "./ownership.ts";
import { PeerLink, type PeerMethod } from "./peer_link.ts";

export class WorkerCluster {
  readonly methods = new Map<string, PeerMethod>();
  private readonly links = new Map<number, PeerLink>();
  private markReady!: () => void;
  /** Resolves once this worker's broker is up; calls from peers wait for it. */
  readonly ready = new Promise<void>((resolve) => {
    this.markReady = resolve;
  });

  constructor(
    readonly index: number,
    readonly count: number,
    private readonly onError: (message: string) => void,
  ) {}

  get isController(): boolean {
    return this.index === CONTROLLER_WORKER;
  }

  ownerOf(topic: string, partition: number): number {
    return ownerOf(topic, partition, this.count);
  }

  owns(topic: string, partition: number): boolean {
    return this.ownerOf(topic, partition) === this.index;
  }

  /** Registers a method the other workers may call (served once this worker is ready). */
  serve(name: string, fn: PeerMethod): void {
    this.methods.set(name, fn);
  }

  /** The broker is up: serve the calls that arrived meanwhile. */
  started(): void {
    this.markReady();
  }

  /** Connects to `peer` over `port`, replacing (and failing the calls of) any older link. */
  setPeer(peer: number, port: MessagePort): void {
    this.links.get(peer)?.close(`worker ${peer} was restarted`);
    this.links.set(peer, new PeerLink(peer, port, this.methods, this.onError, this.ready));
  }

  /** `peer` died: fail its waiting calls now, and new ones until its replacement connects. */
  peerDown(peer: number): void {
    this.links.get(peer)?.close(`worker ${peer} stopped`);
    this.links.delete(peer);
  }

  /** Calls `method` on worker `peer`; rejects with NOT_LEADER_OR_FOLLOWER if it is gone. */
  call<T = unknown>(peer: number, method: string, args: unknown, transfer?: ArrayBuffer[]) {
    const link = this.links.get(peer);
    if (!link) {
      return Promise.reject(
        new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `worker ${peer} is not connected`),
      );
    }
    return link.call<T>(method, args, transfer);
  }

  /**
   * Calls `method` on every other worker and waits for all. A worker that is down is skipped:
   * it reads the current state from disk when it starts again.
   */
  async broadcast(method: string, args: unknown = null): Promise<void> {
    await Promise.all(
      [...this.links.keys()].map((peer) =>
        this.call(peer, method, args).catch((e) => {
          if (e instanceof KafkaError && e.code === ErrorCode.NOT_LEADER_OR_FOLLOWER) return;
          this.onError(`${method} on worker ${peer} failed: ${e}`);
        })
      ),
    );
  }

  /** Calls `method` on every other worker that is up and returns their answers. */
  async gather<T>(method: string, args: unknown = null): Promise<T[]> {
    const answers = await Promise.all(
      [...this.links.keys()].map((peer) =>
        this.call<T>(peer, method, args).then((r) => [r], (e) => {
          this.onError(`${method} on worker ${peer} failed: ${e}`);
          return [];
        })
      ),
    );
    return answers.flat();
  }

  close(): void {
    for (const link of this.links.values()) link.close("shutting down");
    this.links.clear();
  }
}
