/**
 * Request/response calls between two Deno workers over a MessagePort. Each side serves the
 * methods its worker registered; a call's arguments and result are structured-cloned, except
 * the ArrayBuffers listed for transfer, which change hands without a copy. Failures carrying
 * a Kafka error code keep it across the port. When the port is replaced (the peer worker died
 * and was restarted) every call still waiting is rejected with a retriable error.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";

/** A served method; a result wrapped in Transfer hands its buffers over. */
export type PeerMethod = (args: any) => unknown;

/** Wraps a result whose buffers should be transferred rather than copied. */
export class Transfer {
  constructor(readonly result: unknown, readonly transfer: ArrayBuffer[]) {}
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

  constructor(
    readonly peer: number,
    private readonly port: MessagePort,
    private readonly methods: Map<string, PeerMethod>,
    private readonly onError: (message: string) => void,
  ) {
    port.onmessage = (e: MessageEvent) => this.receive(e.data as CallMessage | ReplyMessage);
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
      const msg: CallMessage = { t: "call", id, method, args };
      try {
        this.port.postMessage(msg, transfer);
      } catch (e) {
        this.pending.delete(id);
        reject(e);
      }
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
    try {
      this.port.postMessage(reply, transfer);
    } catch (e) {
      this.onError(`reply to worker ${this.peer} failed: ${e}`);
    }
  }
}
