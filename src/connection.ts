/**
 * One client connection: frames in, responses out, in order.
 *
 * Like Kafka's network layer, a connection has one request in processing at a time
 * (pipelined requests wait in the socket and our read buffer), so responses leave in
 * request order and appends from one connection keep their order. A frame's size prefix is
 * checked against `socket.request.max.bytes` before anything is buffered for it; a
 * malformed frame (a body too short or inconsistent for its fields), an unknown API key or
 * an unsupported version closes only this connection, with a logged reason. Bytes after a
 * request's last field are ignored, as Kafka does.
 */
import { bufferPool } from "./buffer_pool.ts";
import { CloseConnection } from "./close_connection.ts";
import type { IdleExpiryManager } from "./idle_expiry.ts";
import type { HandledRequest, KafkaApis } from "./kafka_apis.ts";
import { errText, log } from "./log.ts";
import { releaseFreshRead } from "./partition_ops.ts";
import { produceTurns } from "./produce_turns.ts";
import type { RequestBudget } from "./request_budget.ts";
import type { ListenerSpec } from "./security/listeners.ts";
import { type AuthenticationCounter, SaslAuthenticator } from "./security/sasl_authenticator.ts";
import type { SaslListener } from "./security/sasl_listener.ts";
import type { ByteStream } from "./security/tls_stream.ts";
import { ANONYMOUS_PRINCIPAL, type Session } from "./security/session.ts";

/** What a connection needs of the server that accepted it. */
export interface ConnectionHost {
  /** The listener the connection arrived on. */
  readonly listener: ListenerSpec;
  /** The listener's SASL mechanisms, on a SASL_PLAINTEXT or SASL_SSL listener. */
  readonly sasl?: SaslListener;
  /** Where SASL logins are counted. */
  readonly authentications?: AuthenticationCounter;
  /** `socket.request.max.bytes`: the largest frame a client may send. */
  readonly maxFrameBytes: number;
  /** This worker's share of `queued.max.request.bytes`. */
  readonly requestBudget: RequestBudget;
  readonly idleConnections: IdleExpiryManager;
  /** The broker is shutting down: requests cut short are expected. */
  readonly isClosing: boolean;
  /** Request handling: decode, dispatch, encode. */
  readonly apis: Pick<KafkaApis, "handleClient" | "frameReusable">;
  connectionClosed(c: Connection): void;
}

const PRODUCE_KEY = 0;

const MIN_READ = 64 * 1024;
/**
 * A connection that filled its first buffer reads into pooled ones of at least this size (the
 * pool's smallest class) and uses all of each: a fresh 64 KiB buffer per few small Produce
 * requests was most of the collector's work, and a buffer cut to the frame in progress left
 * the next frame to be copied over into yet another one.
 */
const GROWN_READ = 256 * 1024;
/** Frames up to this size get their whole buffer at once (typical produce requests). */
const TRUSTED_FRAME = 1024 * 1024;

let nextConnectionId = 1;

/**
 * A read buffer and the frames cut from it that are still being handled. It goes back to the
 * pool when the connection has moved to another buffer (`retired`), no frame is in flight,
 * and no frame was of a request that may keep views of its bytes (`keep`).
 */
interface Slab {
  bytes: Uint8Array;
  frames: number;
  retired: boolean;
  keep: boolean;
}

/**
 * Produce requests of one connection handled at once (see Connection.serve) while the broker
 * keeps up: the waits (an append on another worker) overlap, which keeps a paced producer's
 * acknowledgements quick with workers. With workers, once Produce frames wait for their turn
 * (produce_turns.ts), one, as Kafka mutes a channel while its request is in processing: with
 * five, flooding producers had five times a consumer's share, and with 2 workers eight
 * consumers read 45% of what eight producers wrote in a window instead of 82%
 * (bench/latency.ts fairness).
 */
const MAX_PIPELINED_PRODUCE = 5;

export { CloseConnection };

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  /**
   * Who is on the other end: the listener, its protocol, and the principal, which only this
   * connection's authentication changes. Every request handled for it carries this object.
   */
  readonly session: Session;
  /** Authentication on a SASL listener: it sees every frame before KafkaApis. */
  private readonly sasl: SaslAuthenticator | null;
  private closed = false;
  /**
   * Append-only read buffer: frames are views into it, so it is replaced, never rewritten
   * while a frame in it is being handled. Large ones come from the buffer pool and go back
   * once the connection has moved on and every frame in them is done (see Slab).
   */
  private slab: Slab = { bytes: new Uint8Array(MIN_READ), frames: 0, retired: false, keep: false };
  private get acc(): Uint8Array {
    return this.slab.bytes;
  }
  private start = 0;
  private end = 0;
  private framesRead = 0;
  /** Bytes of the request budget taken for the frame being read (see RequestBudget). */
  private budgetHeld = 0;
  /** Gives up a wait for budget when the connection closes meanwhile. */
  private budgetWait: (() => void) | null = null;
  /** Until when the connection is muted by a client quota's throttle (KIP-219). */
  private mutedUntil = 0;
  /** Ends a mute early when the connection closes. */
  private muteWake: (() => void) | null = null;

  /**
   * `conn`: the TCP connection, or TLS over it; `principal`: who the TLS client certificate
   * says the peer is (anonymous until authenticated otherwise).
   */
  constructor(
    private readonly conn: ByteStream,
    remote: string,
    private readonly host: ConnectionHost,
    principal = ANONYMOUS_PRINCIPAL,
  ) {
    this.remote = remote;
    this.session = {
      listenerName: host.listener.name,
      securityProtocol: host.listener.securityProtocol,
      principal,
    };
    this.sasl = host.sasl
      ? new SaslAuthenticator(host.sasl, this.session, this, host.authentications)
      : null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.budgetWait?.();
    this.muteWake?.();
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }

  /**
   * Serves requests until the peer closes or a request is rejected. Responses leave in request
   * order. Up to MAX_PIPELINED_PRODUCE consecutive Produce requests (one on a worker while
   * Produce is saturating it) may be handled without
   * waiting for the previous one's response (each enqueues its appends, in order, before the
   * next starts, so the log order is the request order); any other request waits until
   * everything before it is answered, so its effects follow theirs, as with Kafka's one
   * request at a time. A Produce frame also waits for its share of the event-loop turn
   * (src/produce_turns.ts).
   */
  async serve(): Promise<void> {
    const maxFrame = this.host.maxFrameBytes;
    /** Settles when every response so far has been written (or the connection failed). */
    let written: Promise<void> = Promise.resolve();
    let producesInFlight = 0;
    let othersInFlight = 0;
    let failure: unknown = null;
    try {
      while (!this.closed && failure === null) {
        const frame = await this.nextFrame(maxFrame);
        if (!frame || failure !== null) {
          if (frame) this.frameDone(this.slab, false, frame.length);
          break;
        }
        const slab = this.slab;
        const apiKey = frame.length >= 2 ? (frame[0] << 8) | frame[1] : -1;
        const produce = apiKey === PRODUCE_KEY;
        const pipelined = produceTurns.pipelineLimit(MAX_PIPELINED_PRODUCE);
        if (!produce || othersInFlight > 0 || producesInFlight >= pipelined) {
          await written;
          if (failure !== null) break;
        }
        // A throttled client's next request waits out the throttle its response gave.
        await this.unmuted();
        // Flooding producers share each event-loop turn with everyone else (produce_turns.ts).
        if (produce) await produceTurns.admit(frame.length);
        if (this.closed) {
          this.frameDone(slab, false, frame.length);
          break;
        }
        if (produce) producesInFlight++;
        else othersInFlight++;
        const handled = this.handle(frame);
        // The frame's bytes are free once it is handled (forwarded ones were copied first).
        handled.then(
          () =>
            this.frameDone(
              slab,
              this.host.apis.frameReusable(apiKey),
              frame.length,
            ),
          () => this.frameDone(slab, false, frame.length),
        );
        // A rejected request stops the loop before the next frame is handled.
        handled.catch((e) => failure ??= e);
        const before = written;
        written = (async () => {
          try {
            const { response, throttleMs } = await handled;
            await before;
            if (response && !this.closed) {
              await this.writeAll(response);
              // Fetched segment bytes are written: their buffers may serve again.
              for (const c of response) releaseFreshRead(c.buffer);
            }
            // Muted from when the response is sent, as Kafka mutes the channel (KIP-219).
            if (throttleMs > 0) {
              this.mutedUntil = Math.max(this.mutedUntil, Date.now() + throttleMs);
            }
            // A failed or refused SASL exchange closes once its answer is out.
            const closeReason = this.sasl?.takeCloseReason();
            if (closeReason) throw new CloseConnection(closeReason, { level: "info" });
          } catch (e) {
            failure ??= e;
            // Answer what came before, then close: that also ends a read waiting for more.
            await before;
            this.close();
          } finally {
            if (produce) producesInFlight--;
            else othersInFlight--;
          }
        })();
      }
      await written;
      this.retire(this.slab);
      if (failure !== null) throw failure;
    } catch (e) {
      if (e instanceof CloseConnection) {
        // While the broker shuts down, requests cut short are expected, not a client's fault.
        (this.host.isClosing ? log.debug : e.level === "info" ? log.info : log.warn)(
          `closing connection ${this.id} from ${this.remote}: ${e.message}`,
        );
      } else if (!this.closed && !isDisconnect(e)) {
        log.error(`connection ${this.id} from ${this.remote} failed: ${errText(e)}`);
      }
    } finally {
      this.close();
      if (this.budgetHeld > 0) this.host.requestBudget.release(this.budgetHeld);
      this.budgetHeld = 0;
      this.host.connectionClosed(this);
    }
  }

  /** Reads the next whole frame (without its size prefix), or null at a clean EOF. */
  private async nextFrame(maxFrame: number): Promise<Uint8Array | null> {
    let size = -1;
    while (true) {
      const have = this.end - this.start;
      if (size < 0 && have >= 4) {
        const a = this.acc;
        size = (a[this.start] << 24) | (a[this.start + 1] << 16) | (a[this.start + 2] << 8) |
          a[this.start + 3];
        const tlsRecord = a[this.start];
        if (
          this.framesRead === 0 && tlsRecord >= 0x14 && tlsRecord <= 0x17 &&
          a[this.start + 1] === 0x03
        ) {
          // A TLS record (version 3.x), not a size prefix: a ClientHello (type 22), or an alert
          // (21) a TLS client sends when it gives up before its hello.
          throw new CloseConnection(
            `TLS ${tlsRecord === 0x16 ? "handshake" : "record"} on a plaintext listener ` +
              `(${this.host.listener.name}, ${this.host.listener.securityProtocol}): is the ` +
              "client set to use SSL here?",
          );
        }
        // Until a SASL login completes, frames are held to sasl.server.max.receive.size (as
        // the size arrives: the login may have completed while this read waited).
        const limit = this.sasl?.maxFrameBytes(maxFrame) ?? maxFrame;
        if (size < 0 || size > limit) {
          throw new CloseConnection(
            `frame size ${size} outside 0..${limit} (${
              limit < maxFrame ? "sasl.server.max.receive.size" : "socket.request.max.bytes"
            })`,
          );
        }
        // The frame's bytes come out of the broker-wide budget before they are buffered:
        // without it, stop reading (the peer's sends back up) until handled frames free some.
        if (!(await this.takeBudget(size))) return null;
      }
      if (size >= 0 && have >= 4 + size) {
        const frame = this.acc.subarray(this.start + 4, this.start + 4 + size);
        this.start += 4 + size;
        this.framesRead++;
        this.slab.frames++;
        this.budgetHeld = 0; // the frame holds it now, until frameDone
        return frame;
      }
      if (have === 0 && this.acc.length > TRUSTED_FRAME) {
        // A large frame's buffer is not kept for what comes next (an idle connection would
        // hold it for good): it goes back once its frames are done.
        const old = this.slab;
        this.slab = { bytes: new Uint8Array(MIN_READ), frames: 0, retired: false, keep: false };
        this.retire(old);
        this.start = this.end = 0;
      }
      // Need more bytes: make room without overwriting bytes frames may still reference.
      if (this.acc.length - this.end < 4096) {
        // Out of room: grow with what has arrived, not with what the size prefix claims, so
        // a peer announcing a large frame and sending little costs little memory.
        const need = size >= 0 ? 4 + size : 4;
        const taken = bufferPool.take(
          Math.max(
            GROWN_READ,
            Math.min(need + MIN_READ / 2, Math.max(TRUSTED_FRAME, have * 2 + MIN_READ)),
          ),
        );
        const next = new Uint8Array(taken.buffer, 0, taken.buffer.byteLength);
        next.set(this.acc.subarray(this.start, this.end));
        const old = this.slab;
        this.slab = { bytes: next, frames: 0, retired: false, keep: false };
        this.retire(old);
        this.end -= this.start;
        this.start = 0;
      }
      let n: number | null;
      try {
        n = await this.conn.read(this.acc.subarray(this.end));
      } catch (e) {
        if (isDisconnect(e) || this.closed) return null;
        throw e;
      }
      if (n === null) {
        if (this.end > this.start) {
          log.debug(
            `connection ${this.id}: peer closed mid-frame (${this.end - this.start} bytes)`,
          );
        }
        return null;
      }
      this.end += n;
      this.host.idleConnections.touch(this);
    }
  }

  /**
   * Takes `bytes` of the request budget for the frame being read, waiting for them if need be;
   * false if the connection closed meanwhile.
   */
  private async takeBudget(bytes: number): Promise<boolean> {
    const budget = this.host.requestBudget;
    const wait = budget.acquire(bytes);
    if (wait) {
      this.budgetWait = wait.withdraw;
      if (this.closed) wait.withdraw();
      await wait.granted;
      this.budgetWait = null;
      if (this.closed) return false; // withdraw gave the bytes back
    }
    this.budgetHeld = bytes;
    return true;
  }

  /**
   * A frame of `slab` (of `bytes` bytes) is handled; `reusable`: nothing it was decoded into
   * outlives that. Its bytes go back to the request budget.
   */
  private frameDone(slab: Slab, reusable: boolean, bytes: number): void {
    this.host.requestBudget.release(bytes);
    slab.frames--;
    if (!reusable) slab.keep = true;
    this.recycle(slab);
  }

  /** The connection reads into another buffer now (or is done reading). */
  private retire(slab: Slab): void {
    slab.retired = true;
    this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    if (slab.retired && slab.frames === 0 && !slab.keep) {
      slab.keep = true; // once
      bufferPool.give(slab.bytes.buffer);
    }
  }

  /** Decodes, dispatches and encodes one request, under the client's quotas. */
  private handle(frame: Uint8Array): Promise<HandledRequest> {
    // On a SASL listener the authenticator answers the handshake's requests itself and lets
    // the others through only once the session is authenticated.
    let intercepted;
    try {
      intercepted = this.sasl?.intercept(frame);
    } catch (e) {
      return Promise.reject(e);
    }
    if (intercepted) return intercepted.then((response) => ({ response, throttleMs: 0 }));
    return this.host.apis.handleClient(frame, this.remote, this.id, this.session);
  }

  /** Resolves once the connection is no longer muted (or has closed). */
  private async unmuted(): Promise<void> {
    const ms = this.mutedUntil - Date.now();
    if (ms <= 0 || this.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.muteWake = null;
        resolve();
      }, ms);
      this.muteWake = () => {
        clearTimeout(timer);
        this.muteWake = null;
        resolve();
      };
    });
  }

  private async writeAll(chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      let off = 0;
      while (off < chunk.length) {
        off += await this.conn.write(chunk.subarray(off));
      }
    }
    this.host.idleConnections.touch(this);
  }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected || e instanceof Deno.errors.ConnectionAborted;
}
