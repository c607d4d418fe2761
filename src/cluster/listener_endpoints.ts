/**
 * A broker's endpoints per listener, as its cluster registration lists them (Kafka's
 * BrokerRegistration endpoints, `NAME://host:port`): Metadata, DescribeCluster,
 * FindCoordinator and leader hints answer each client with the endpoints of the listener it
 * came in on (a broker without that listener is left out, as Kafka's MetadataCache does), and
 * brokers reach each other on the inter-broker listener.
 */
import type { BrokerEndpoint } from "./leadership.ts";

export interface ListenerEndpoint {
  /** Upper case, as listener names are normalised. */
  name: string;
  host: string;
  port: number;
}

const ENDPOINT = /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:/\[\]]*):(\d+)$/;

/** The endpoints of a registration's `listeners`; entries that do not parse are skipped. */
export function parseListenerEndpoints(listeners: readonly string[]): ListenerEndpoint[] {
  const out: ListenerEndpoint[] = [];
  for (const item of listeners) {
    const m = ENDPOINT.exec(item.trim());
    if (!m) continue;
    out.push({ name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ""), port: Number(m[3]) });
  }
  return out;
}

/** `NAME://host:port`, IPv6 hosts in brackets. */
export function listenerEndpointText(e: ListenerEndpoint): string {
  const host = e.host.includes(":") ? `[${e.host}]` : e.host;
  return `${e.name}://${host}:${e.port}`;
}

/** A broker's listeners as its registration lists them: each at its advertised address. */
export function registeredListeners(
  listeners: readonly { name: string; advertisedHost: string; advertisedPort: number }[],
): string[] {
  return listeners.map((l) =>
    listenerEndpointText({ name: l.name, host: l.advertisedHost, port: l.advertisedPort })
  );
}

/**
 * Broker `b`'s endpoint on listener `name`; undefined when it has no such listener. A broker
 * known without its listeners (a single broker, an embedder's view) is reached at its address.
 */
export function endpointOn(
  b: BrokerEndpoint,
  name: string,
): { host: string; port: number } | undefined {
  if (!b.listeners) return { host: b.host, port: b.port };
  const upper = name.toUpperCase();
  const e = b.listeners.find((l) => l.name === upper);
  return e ? { host: e.host, port: e.port } : undefined;
}
