/**
 * Request/response calls between two Deno workers over a MessagePort. Each side serves the
 * methods its worker registered; a call's arguments and result are structured-cloned, except
 * the ArrayBuffers listed for transfer, which change hands without a copy. Failures carrying
 * a Kafka error code keep it across the port. When the port is replaced (the peer worker died
 * and was restarted) every call still waiting is rejected with a retriable error.
 *
 * Calls and replies made in one turn of the event loop leave as one message: waking another
 * thread costs more than the message itself, so a busy worker pays it once per batch.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

/** A served method; a result wrapped in Transfer hands its buffers over. */
export type PeerMethod = (args: any) => unknown;

/** Wraps a result whose buffers should be transferred rather than copied. */
export class Transfer<T = unknown> {
  constructor(readonly result: T, readonly transfer: ArrayBuffer[]) {}
}

interface CallMessage {
  t: "call";
  id: number;
  method: string;
  args: unknown;
}
interface ReplyMessage {
  t: "reply";
  id: number;
  ok: boolean;
  result?: unknown;
  code?: number;
  message?: string;
}

export class PeerLink {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: any) => void; reject: (e: unknown) => void }
  >();
  private closed = false;
  /** Calls and replies waiting for the end of this turn of the event loop. */
  private outbox: (CallMessage | ReplyMessage)[] = [];
  private outboxTransfer: ArrayBuffer[] = [];

  constructor(
    readonly peer: number,
    private readonly port: MessagePort,
    private readonly methods: Map<string, PeerMethod>,
    private readonly onError: (message: string) => void,
    /** Calls are served once this resolves (the worker's broker is up and its methods set). */
    private readonly ready: Promise<void> = Promise.resolve(),
  ) {
    port.onmessage = (e: MessageEvent) => {
      for (const m of e.data as (CallMessage | ReplyMessage)[]) this.receive(m);
    };
    port.start();
  }

  /** Calls `method` on the peer. */
  call<T = unknown>(method: string, args: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) {
      return Promise.reject(
        new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `worker ${this.peer} is restarting`),
      );
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ t: "call", id, method, args }, transfer);
    });
  }

  /** Rejects every waiting call (the peer is gone) and stops listening. */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      p.reject(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, why));
    }
    this.pending.clear();
    this.port.onmessage = null;
    try {
      this.port.close();
    } catch {
      // already closed
    }
  }

  private receive(m: CallMessage | ReplyMessage): void {
    if (m.t === "reply") {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new KafkaError(m.code ?? ErrorCode.UNKNOWN_SERVER_ERROR, m.message ?? ""));
      return;
    }
    void this.serve(m);
  }

  private async serve(m: CallMessage): Promise<void> {
    let reply: ReplyMessage;
    let transfer: ArrayBuffer[] = [];
    try {
      await this.ready;
      const fn = this.methods.get(m.method);
      if (!fn) throw new Error(`no method ${m.method}`);
      let result = await fn(m.args);
      if (result instanceof Transfer) {
        transfer = result.transfer;
        result = result.result;
      }
      reply = { t: "reply", id: m.id, ok: true, result };
    } catch (e) {
      const code = e instanceof KafkaError ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      const message = e instanceof Error ? e.message : String(e);
      if (!(e instanceof KafkaError)) {
        this.onError(`call ${m.method} from worker ${this.peer} failed: ${message}`);
      }
      reply = { t: "reply", id: m.id, ok: false, code, message };
    }
    if (this.closed) return;
    this.send(reply, transfer);
  }

  private send(m: CallMessage | ReplyMessage, transfer: ArrayBuffer[]): void {
    if (this.outbox.length === 0) queueMicrotask(() => this.flush());
    this.outbox.push(m);
    for (const b of transfer) this.outboxTransfer.push(b);
  }

  private flush(): void {
    const batch = this.outbox;
    const transfer = this.outboxTransfer;
    this.outbox = [];
    this.outboxTransfer = [];
    if (this.closed) return;
    try {
      this.port.postMessage(batch, transfer);
    } catch (e) {
      // A message that cannot be cloned: fail its calls (replies are the peer's to time out).
      this.onError(`message to worker ${this.peer} failed: ${e}`);
      for (const m of batch) {
        if (m.t !== "call") continue;
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.reject(e);
      }
    }
  }
}
