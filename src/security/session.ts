/**
 * Who is on the other end of a connection, as Kafka's RequestContext carries it: the listener
 * the connection arrived on, that listener's security protocol, and the principal the
 * connection authenticated as (`User:ANONYMOUS` until SSL client auth or SASL says otherwise).
 * Handlers and the authorizer read it; only the connection's authentication sets it.
 */

/** Kafka's `security.protocol` values (`listener.security.protocol.map`). */
export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = [
  "PLAINTEXT",
  "SSL",
  "SASL_PLAINTEXT",
  "SASL_SSL",
];

/** Kafka's KafkaPrincipal.ANONYMOUS, as `type:name`. */
export const ANONYMOUS_PRINCIPAL = "User:ANONYMOUS";

export interface Session {
  /** The listener's name (`PLAINTEXT`, `INTERNAL`, ...). */
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** `type:name`, e.g. `User:alice`; ANONYMOUS_PRINCIPAL before authentication. */
  principal: string;
  /** The SASL mechanism that authenticated the connection, if any. */
  saslMechanism?: string;
}

/** The session of a connection on the default plaintext listener. */
export function plaintextSession(listenerName = "PLAINTEXT"): Session {
  return { listenerName, securityProtocol: "PLAINTEXT", principal: ANONYMOUS_PRINCIPAL };
}
