/**
 * One worker's view of the others: who owns which partition, a PeerLink to every other
 * worker, and the methods this worker serves to them. Worker 0 is the controller: it writes
 * topics.json, runs the group and transaction coordinators and answers every request that is
 * the registry does not place elsewhere (the other workers forward those frames to it).
 * Partition operations go straight to the partition's owner. The methods and their types are
 * listed in peer_methods.ts.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { CONTROLLER_WORKER, ownerOf, partitionOwners } from "./ownership.ts";
import { PeerLink, type PeerMethod, type Transfer } from "./peer_link.ts";
import type { PeerArgs, PeerMethodName, PeerResult } from "./peer_methods.ts";

/** How a worker serves `M`: its result, or the result with buffers to hand over. */
export type PeerHandler<M extends PeerMethodName> = (
  args: PeerArgs<M>,
) =>
  | PeerResult<M>
  | Transfer<PeerResult<M>>
  | Promise<PeerResult<M> | Transfer<PeerResult<M>>>;

export class WorkerCluster {
  readonly methods: Map<string, PeerMethod> = new Map();
  private readonly links = new Map<number, PeerLink>();
  private markReady!: () => void;
  /** Resolves once this worker's broker is up; calls from peers wait for it. */
  readonly ready: Promise<void> = new Promise<void>((resolve) => {
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

  /** The owner of each partition of `topic` (the topic's hash taken once). */
  ownersOf(topic: string): (partition: number) => number {
    return partitionOwners(topic, this.count);
  }

  owns(topic: string, partition: number): boolean {
    return this.ownerOf(topic, partition) === this.index;
  }

  /** Registers a method the other workers may call (served once this worker is ready). */
  serve<M extends PeerMethodName>(name: M, fn: PeerHandler<M>): void {
    this.methods.set(name, fn as PeerMethod);
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
  call<M extends PeerMethodName>(
    peer: number,
    method: M,
    args: PeerArgs<M>,
    transfer?: ArrayBuffer[],
  ): Promise<PeerResult<M>> {
    const link = this.links.get(peer);
    if (!link) {
      return Promise.reject(
        new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `worker ${peer} is not connected`),
      );
    }
    return link.call<PeerResult<M>>(method, args, transfer);
  }

  /**
   * Calls `method` on every other worker and waits for all. A worker that is down is skipped:
   * it reads the current state from disk when it starts again.
   */
  async broadcast<
    M extends
      | "syncCatalogue"
      | "syncBrokerConfigs"
      | "syncAcls"
      | "syncClientQuotas"
      | "syncScramCredentials"
      | "syncRegistration"
      | "dropTopic",
  >(
    method: M,
    ...rest: PeerArgs<M> extends null ? [] : [PeerArgs<M>]
  ): Promise<void> {
    const args = (rest[0] ?? null) as PeerArgs<M>;
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
  async gather<M extends "stats">(method: M): Promise<PeerResult<M>[]> {
    const args = null as PeerArgs<M>;
    const answers = await Promise.all(
      [...this.links.keys()].map((peer) =>
        this.call(peer, method, args).then((r) => [r], (e) => {
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
