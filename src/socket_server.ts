/**
 * The socket server (Kafka's SocketServer acceptor): accepts connections on one listener (the
 * broker runs one per listener, sharing the connection quotas) within `max.connections` and
 * `max.connections.per.ip`, backs off when accepting fails, runs the TLS handshake on SSL
 * listeners, and tracks the open connections (src/connection.ts frames each one's requests).
 */
import { Connection, type ConnectionHost } from "./connection.ts";
import type { ConnectionQuotas } from "./connection_quotas.ts";
import type { FaultInjector } from "./faults.ts";
import type { IdleExpiryManager } from "./idle_expiry.ts";
import { errText, log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { RequestBudget } from "./request_budget.ts";
import type { ListenerSpec } from "./security/listeners.ts";
import type { SaslListener } from "./security/sasl_listener.ts";
import type { TlsListener } from "./security/tls_listener.ts";
import type { ByteStream } from "./security/tls_stream.ts";

export interface SocketServerOptions {
  /** The listener served: its name and security protocol go into each connection's session. */
  listener: ListenerSpec;
  /** The listener's SASL mechanisms, when its protocol is SASL_PLAINTEXT or SASL_SSL. */
  sasl?: SaslListener;
  /** For SSL and SASL_SSL listeners: the handshake every accepted connection goes through. */
  tls?: TlsListener;
  apis: ConnectionHost["apis"];
  requestBudget: RequestBudget;
  idleConnections: IdleExpiryManager;
  quotas: ConnectionQuotas;
  metrics: Metrics;
  /** `socket.request.max.bytes`. */
  maxFrameBytes: number;
  isClosing: () => boolean;
  /** Injected faults: the next N connections accepted may be dropped. */
  faults?: Pick<FaultInjector, "active" | "dropAccepted">;
}

export class SocketServer implements ConnectionHost {
  readonly connections: Set<Connection> = new Set();
  private socket?: Deno.TcpListener;
  private acceptLoop?: Promise<void>;
  /** Accepted connections still in their TLS handshake (closed with the server). */
  private readonly handshaking = new Set<Deno.TcpConn>();

  constructor(private readonly o: SocketServerOptions) {}

  get listener(): ListenerSpec {
    return this.o.listener;
  }

  get sasl(): SaslListener | undefined {
    return this.o.sasl;
  }

  get authentications(): Metrics {
    return this.o.metrics;
  }

  get apis(): ConnectionHost["apis"] {
    return this.o.apis;
  }

  get requestBudget(): RequestBudget {
    return this.o.requestBudget;
  }

  get idleConnections(): IdleExpiryManager {
    return this.o.idleConnections;
  }

  get maxFrameBytes(): number {
    return this.o.maxFrameBytes;
  }

  get isClosing(): boolean {
    return this.o.isClosing();
  }

  /** Starts accepting on `socket`. */
  start(socket: Deno.TcpListener): void {
    this.socket = socket;
    this.acceptLoop = this.accept();
  }

  /** Stops accepting and closes every connection; resolves when the accept loop is done. */
  async close(): Promise<void> {
    this.o.tls?.close();
    try {
      this.socket?.close();
    } catch {
      // already closed
    }
    for (const c of this.connections) c.close();
    for (const conn of this.handshaking) {
      try {
        conn.close();
      } catch {
        // closed by the handshake
      }
    }
    await this.acceptLoop;
  }

  private async accept(): Promise<void> {
    const socket = this.socket!;
    while (true) {
      let conn: Deno.TcpConn;
      try {
        await this.o.quotas.slot();
        conn = await socket.accept();
      } catch (e) {
        if (this.o.isClosing()) return;
        if (e instanceof Deno.errors.BadResource) return;
        // At the descriptor limit every accept fails at once: back off, log once a while.
        const wait = this.o.quotas.acceptFailed(errText(e));
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      const remote = (conn.remoteAddr as Deno.NetAddr).hostname ?? "unknown";
      if (this.o.faults?.active && await this.o.faults.dropAccepted()) {
        log.info(`fault injection: dropped a connection from ${remote}`);
        try {
          conn.close();
        } catch {
          // already closed
        }
        continue;
      }
      try {
        conn.setNoDelay(true);
      } catch {
        // the socket may already be gone; serving it will notice
      }
      const tls = this.o.tls;
      if (!tls) {
        this.open(conn, conn, remote);
        continue;
      }
      // The handshake runs beside the accept loop: a slow client holds up only itself.
      this.handshaking.add(conn);
      tls.accept(conn, remote).finally(() => this.handshaking.delete(conn)).then(
        (secured) => {
          if (!secured) return;
          if (this.o.isClosing()) secured.stream.close();
          else this.open(secured.stream, conn, remote, secured.principal);
        },
        (e) => log.error(`could not secure a connection from ${remote}: ${errText(e)}`),
      );
    }
  }

  /** Serves an accepted (and, on a TLS listener, secured) connection. */
  private open(stream: ByteStream, tcp: Deno.TcpConn, remote: string, principal?: string): void {
    try {
      const c = new Connection(stream, remote, this, principal);
      if (!this.o.quotas.add(c.remote)) {
        c.close();
        return;
      }
      this.o.idleConnections.touch(c);
      this.connections.add(c);
      this.o.metrics.connectionsOpen++;
      this.o.metrics.connectionsTotal++;
      c.serve();
    } catch (e) {
      log.error(`could not set up a connection: ${errText(e)}`);
      for (const x of [stream, tcp]) {
        try {
          x.close();
        } catch {
          // already closed
        }
      }
    }
  }

  connectionClosed(c: Connection): void {
    if (this.connections.delete(c)) {
      this.o.metrics.connectionsOpen--;
      this.o.quotas.remove(c.remote);
    }
    this.o.idleConnections.remove(c);
  }
}
