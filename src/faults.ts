/**
 * Fault injection for client authors, after librdkafka's mock cluster
 * (`rd_kafka_mock_push_request_errors`, `rd_kafka_mock_broker_push_request_error_rtts`) and
 * franz-go kfake's ControlKey: the next N requests of an API (optionally only those naming a
 * topic or partition) fail with an error code or are delayed; every connection (or the next N
 * accepted) is dropped; the broker stops answering for a while.
 *
 * One FaultInjector per broker (`broker.faults`), so broker-level faults of a cluster ("take
 * this broker down") sit beside these; cluster-wide ones (moving a leader) belong to the
 * cluster. Off unless `tributary.fault.injection.enable` (dev mode turns it on): a disabled
 * injector refuses every change, and request handling pays one boolean check (`active`).
 *
 * With Deno workers the faults live on worker 0 (where the admin API runs), so "the next N
 * requests" counts requests on every worker: the others are told whether any fault is set
 * (`setActive`) and, while one is, ask worker 0 for each request (`follow`), and drop their
 * own connections when told to (`lead`'s peers).
 */
import { ErrorCode, errorName } from "../protocol/errors.ts";

/** What `push` takes: the API by Kafka name or key, and what to do to its next requests. */
export interface RequestFaultSpec {
  /** The API by Kafka name ("Produce", "FindCoordinator"); or give `apiKey`. */
  api?: string;
  apiKey?: number;
  /** How many matching requests it applies to (default 1). */
  count?: number;
  /** The Kafka error code (number or name) answered instead of handling the request. */
  errorCode?: number | string;
  /** Hold each matching request this long first (then fail it, or handle it normally). */
  delayMs?: number;
  /** Only requests naming this topic (and, with `partition`, this partition of it). */
  topic?: string;
  partition?: number;
}

/** A pushed request fault, as `list()` reports it. */
export interface RequestFault {
  id: number;
  apiKey: number;
  api: string;
  /** Requests still to be hit. */
  remaining: number;
  count: number;
  /** 0: the requests are delayed, then handled. */
  errorCode: number;
  error: string;
  delayMs: number;
  topic?: string;
  partition?: number;
}

export interface FaultsState {
  enabled: boolean;
  requests: RequestFault[];
  /** Connections still to be dropped as soon as they are accepted. */
  dropNextConnections: number;
  /** When the broker answers again (ISO time), or null when it is not hanging. */
  hangingUntil: string | null;
  /** Requests held by the hang, answered when it ends. */
  heldRequests: number;
}

/** A fault change on a broker whose fault injection is off. */
export class FaultInjectionDisabledError extends Error {
  constructor() {
    super(
      "fault injection is not enabled on this broker: start it with --dev, " +
        "or set tributary.fault.injection.enable=true",
    );
    this.name = "FaultInjectionDisabledError";
  }
}

/** A fault that cannot be applied as given (unknown API or error name, bad count). */
export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultSpecError";
  }
}

/** What the injector needs of the broker. */
export interface FaultHost {
  /** The API registered under `apiKey`, or undefined. */
  apiName(apiKey: number): string | undefined;
  /** Every API's key by name. */
  apiKeys(): Iterable<[name: string, apiKey: number]>;
  /** The open client connections. */
  connections(): Iterable<{ close(): void }>;
}

/** A topic and partition (undefined: the request names the topic only) a request names. */
export type NamedPartition = [topic: string, partition: number | undefined];

/** How worker 0's injector reaches the other workers. */
export interface FaultPeers {
  /** Tells every other worker whether a fault is set. */
  setActive(active: boolean): Promise<void>;
  /** Drops every other worker's client connections; how many. */
  dropConnections(): Promise<number>;
}

/** How another worker's injector reaches worker 0's, which holds the faults. */
export interface FaultLeader {
  take(apiKey: number, named: NamedPartition[]): Promise<RequestFault | undefined>;
  dropAccepted(): Promise<boolean>;
}

export class FaultInjector {
  /** Whether any fault is set: the one check request handling makes when none is. */
  active = false;
  private readonly faults: RequestFault[] = [];
  private nextId = 1;
  private dropNext = 0;
  private hangUntil = 0;
  private hangTimer?: ReturnType<typeof setTimeout>;
  private hangWaiters: (() => void)[] = [];
  private peers?: FaultPeers;
  private leader?: FaultLeader;
  /** The other workers told of the latest `active`, in order. */
  private told: Promise<void> = Promise.resolve();

  constructor(readonly enabled: boolean, private readonly host: FaultHost) {}

  /** Worker 0 of several: the faults are kept here and the other workers are told of them. */
  lead(peers: FaultPeers): void {
    this.peers = peers;
  }

  /** Another worker: requests here ask `leader` (worker 0) while it says a fault is set. */
  follow(leader: FaultLeader): void {
    this.leader = leader;
  }

  /** Set by worker 0 on the other workers: whether to ask it about each request. */
  setActive(active: boolean): void {
    this.active = active;
  }

  /** Resolves once every other worker knows of the faults changed so far. */
  propagated(): Promise<void> {
    return this.told;
  }

  /** Makes the next `count` requests of an API fail with `errorCode` and/or wait `delayMs`. */
  push(spec: RequestFaultSpec): RequestFault {
    this.checkEnabled();
    const apiKey = this.resolveApi(spec);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new FaultSpecError(`count must be a whole number ≥ 1, not ${spec.count}`);
    }
    const delayMs = spec.delayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      throw new FaultSpecError(`delayMs must be ≥ 0, not ${spec.delayMs}`);
    }
    const errorCode = resolveErrorCode(spec.errorCode ?? 0);
    if (errorCode === 0 && delayMs === 0) {
      throw new FaultSpecError("a fault needs an errorCode, a delayMs, or both");
    }
    if (spec.partition !== undefined && spec.topic === undefined) {
      throw new FaultSpecError("partition needs a topic");
    }
    if (spec.partition !== undefined && (!Number.isInteger(spec.partition) || spec.partition < 0)) {
      throw new FaultSpecError(`partition must be a partition index, not ${spec.partition}`);
    }
    const fault: RequestFault = {
      id: this.nextId++,
      apiKey,
      api: this.host.apiName(apiKey)!,
      remaining: count,
      count,
      errorCode,
      error: errorName(errorCode),
      delayMs,
      ...(spec.topic !== undefined ? { topic: spec.topic } : {}),
      ...(spec.partition !== undefined ? { partition: spec.partition } : {}),
    };
    this.faults.push(fault);
    this.update();
    return { ...fault };
  }

  /**
   * Closes every open client connection now (resolves to how many, on every worker), or,
   * with `next`, the next `next` connections as soon as they are accepted.
   */
  async dropConnections(options: { next?: number } = {}): Promise<number> {
    this.checkEnabled();
    if (options.next !== undefined) {
      if (!Number.isInteger(options.next) || options.next < 1) {
        throw new FaultSpecError(`next must be a whole number ≥ 1, not ${options.next}`);
      }
      this.dropNext += options.next;
      this.update();
      await this.told;
      return 0;
    }
    const here = this.dropLocalConnections();
    return here + (this.peers ? await this.peers.dropConnections() : 0);
  }

  /** Closes this worker's client connections; how many. */
  dropLocalConnections(): number {
    let n = 0;
    for (const c of [...this.host.connections()]) {
      c.close();
      n++;
    }
    return n;
  }

  /** Stops answering requests for `ms` (from now); requests meanwhile are answered after. */
  hang(ms: number): void {
    this.checkEnabled();
    if (!Number.isFinite(ms) || ms <= 0) throw new FaultSpecError(`ms must be > 0, not ${ms}`);
    clearTimeout(this.hangTimer);
    this.hangUntil = Date.now() + ms;
    this.hangTimer = setTimeout(() => this.endHang(), ms);
    this.update();
  }

  /** Removes every fault and ends a hang (held requests are answered). */
  clear(): void {
    this.checkEnabled();
    this.faults.length = 0;
    this.dropNext = 0;
    this.endHang();
  }

  /** The faults in force. */
  list(): FaultsState {
    return {
      enabled: this.enabled,
      requests: this.faults.map((f) => ({ ...f })),
      dropNextConnections: this.dropNext,
      hangingUntil: this.hangUntil ? new Date(this.hangUntil).toISOString() : null,
      heldRequests: this.hangWaiters.length,
    };
  }

  /** Ends a hang and the timers: the broker is closing. */
  close(): void {
    this.endHang();
  }

  // ---- request handling --------------------------------------------------------------

  /**
   * Waits out a hang, then takes the first fault matching a request of `apiKey` (counting it
   * down) and waits its delay. `named` lists what the request names, computed only when a
   * fault for this API is limited to a topic. Undefined: the request is handled as usual.
   */
  async take(
    apiKey: number,
    named: () => NamedPartition[],
  ): Promise<RequestFault | undefined> {
    if (this.leader) return await this.leader.take(apiKey, named());
    if (this.hangUntil) await new Promise<void>((r) => this.hangWaiters.push(r));
    let hit: RequestFault | undefined;
    let names: NamedPartition[] | undefined;
    for (const f of this.faults) {
      if (f.apiKey !== apiKey) continue;
      if (f.topic !== undefined) {
        names ??= named();
        const match = names.some(([t, p]) =>
          t === f.topic && (f.partition === undefined || p === f.partition)
        );
        if (!match) continue;
      }
      hit = f;
      break;
    }
    if (!hit) return undefined;
    if (--hit.remaining === 0) this.faults.splice(this.faults.indexOf(hit), 1);
    this.update();
    if (hit.delayMs > 0) await new Promise((r) => setTimeout(r, hit.delayMs));
    return hit;
  }

  /** Whether a connection just accepted is to be dropped (counts it down). */
  dropAccepted(): boolean | Promise<boolean> {
    if (this.leader) return this.leader.dropAccepted();
    if (this.dropNext === 0) return false;
    this.dropNext--;
    this.update();
    return true;
  }

  private endHang(): void {
    clearTimeout(this.hangTimer);
    this.hangTimer = undefined;
    this.hangUntil = 0;
    for (const w of this.hangWaiters.splice(0)) w();
    this.update();
  }

  private update(): void {
    const active = this.faults.length > 0 || this.dropNext > 0 || this.hangUntil > 0;
    if (active === this.active) return;
    this.active = active;
    const peers = this.peers;
    if (peers) this.told = this.told.then(() => peers.setActive(active));
  }

  private checkEnabled(): void {
    if (!this.enabled) throw new FaultInjectionDisabledError();
    if (this.leader) {
      throw new FaultSpecError("faults are set on worker 0 (where the admin API runs)");
    }
  }

  private resolveApi(spec: RequestFaultSpec): number {
    if (spec.apiKey !== undefined) {
      if (this.host.apiName(spec.apiKey) === undefined) {
        throw new FaultSpecError(`no API with key ${spec.apiKey} is served here`);
      }
      return spec.apiKey;
    }
    if (spec.api === undefined) throw new FaultSpecError("a fault needs an api or an apiKey");
    const want = spec.api.toLowerCase();
    for (const [name, key] of this.host.apiKeys()) if (name.toLowerCase() === want) return key;
    throw new FaultSpecError(`no API named ${spec.api} is served here`);
  }
}

/** An error code from its number or Kafka name (NOT_LEADER_OR_FOLLOWER). */
function resolveErrorCode(e: number | string): number {
  if (typeof e === "number") {
    if (!Number.isInteger(e) || e < -1 || e > 0x7fff) {
      throw new FaultSpecError(`errorCode ${e} is no Kafka error code`);
    }
    return e;
  }
  const code = (ErrorCode as Record<string, number>)[e.toUpperCase()];
  if (code === undefined) throw new FaultSpecError(`no Kafka error named ${e}`);
  return code;
}

type Loose = Record<string, unknown>;

/**
 * The topics and partitions a decoded request names: entries of its arrays called `topics`
 * (or `topicData`, `topicNames`, at any depth: OffsetFetch's groups[].topics) give a topic by
 * name, or by id through `topicById`, and their `partitions` arrays the indexes.
 */
export function namedPartitions(
  body: Loose,
  topicById: (id: string) => string | undefined,
): NamedPartition[] {
  const out: NamedPartition[] = [];
  const walk = (o: Loose) => {
    for (const [k, v] of Object.entries(o)) {
      if (!Array.isArray(v)) continue;
      if (!/topic/i.test(k)) {
        for (const x of v) if (x !== null && typeof x === "object") walk(x as Loose);
        continue;
      }
      for (const t of v) {
        if (typeof t === "string") {
          out.push([t, undefined]);
          continue;
        }
        if (t === null || typeof t !== "object") continue;
        const e = t as Loose;
        const name = [e.name, e.topic, e.topicName].find((x) => typeof x === "string" && x) as
          | string
          | undefined ?? (typeof e.topicId === "string" ? topicById(e.topicId) : undefined);
        if (name === undefined) continue;
        out.push([name, undefined]);
        for (const [pk, pv] of Object.entries(e)) {
          if (!/partition/i.test(pk) || !Array.isArray(pv)) continue;
          for (const p of pv) {
            const index = typeof p === "number" ? p : partitionIndexOf(p as Loose);
            if (index !== undefined) out.push([name, index]);
          }
        }
      }
    }
  };
  walk(body);
  return out;
}

function partitionIndexOf(p: Loose | null): number | undefined {
  if (p === null || typeof p !== "object") return undefined;
  for (const k of ["partitionIndex", "index", "partition", "partitionId"]) {
    if (typeof p[k] === "number") return p[k] as number;
  }
  return undefined;
}
