/**
 * Connections from this broker to the others, one per broker, through the project's own
 * client (src/client/): what the transaction coordinator's marker channel and produce
 * verification send their requests over. The address comes from Leadership each time, so a
 * broker that came back on another address is reached there; a failed or closed connection
 * is dropped and the next call connects again.
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import { hostPort } from "../client/client.ts";
import { BrokerConnection } from "../client/connection.ts";
import type { InterBrokerClient } from "./inter_broker_client.ts";
import type { Leadership } from "./leadership.ts";
import { endpointOn } from "./listener_endpoints.ts";

interface Entry {
  address: string;
  connection: Promise<BrokerConnection>;
}

export class BrokerConnections {
  private readonly byNode = new Map<number, Entry>();
  private closed = false;

  constructor(
    private readonly leadership: Pick<Leadership, "broker">,
    private readonly opts: {
      clientId: string;
      requestTimeoutMs?: number;
      /** The other brokers' listener to connect to, and its security. */
      interBroker?: InterBrokerClient;
    },
  ) {}

  /**
   * The connection to broker `nodeId`. Rejects with LEADER_NOT_AVAILABLE when the broker is
   * not alive (no endpoint), or with the client's error when it cannot be reached.
   */
  get(nodeId: number): Promise<BrokerConnection> {
    if (this.closed) {
      return Promise.reject(new KafkaError(ErrorCode.NOT_COORDINATOR, "broker is closing"));
    }
    const endpoint = this.leadership.broker(nodeId);
    if (!endpoint) {
      return Promise.reject(
        new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `broker ${nodeId} is not alive`),
      );
    }
    const inter = this.opts.interBroker;
    const on = inter ? endpointOn(endpoint, inter.listener) : endpoint;
    if (!on) {
      return Promise.reject(
        new KafkaError(
          ErrorCode.LEADER_NOT_AVAILABLE,
          `broker ${nodeId} has no listener ${inter!.listener} (inter.broker.listener.name)`,
        ),
      );
    }
    const address = hostPort(on.host, on.port);
    const e = this.byNode.get(nodeId);
    if (e && e.address === address) {
      return e.connection.then((c) => {
        if (!c.isClosed) return c;
        if (this.byNode.get(nodeId) === e) this.byNode.delete(nodeId);
        return this.get(nodeId);
      });
    }
    if (e) this.drop(nodeId);
    const connection = BrokerConnection.connect(address, {
      clientId: this.opts.clientId,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      ...inter?.connection,
    });
    const entry = { address, connection };
    this.byNode.set(nodeId, entry);
    connection.catch(() => {
      if (this.byNode.get(nodeId) === entry) this.byNode.delete(nodeId);
    });
    return connection;
  }

  /** Forgets (and closes) the connection to `nodeId`, after a failure on it. */
  drop(nodeId: number): void {
    const e = this.byNode.get(nodeId);
    if (!e) return;
    this.byNode.delete(nodeId);
    e.connection.then((c) => c.close(), () => {});
  }

  close(): void {
    this.closed = true;
    for (const e of this.byNode.values()) e.connection.then((c) => c.close(), () => {});
    this.byNode.clear();
  }
}
