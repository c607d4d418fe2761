/**
 * The server side of one SASL exchange, as Kafka's SaslServer is used by its authenticator:
 * each client token is evaluated into a challenge to send back, a completed login, or a
 * failure. A failure carries two texts: `reason` for the broker's log, and `clientMessage`,
 * the SASL_AUTHENTICATION_FAILED message the client sees, which (as in Kafka) never says
 * more than the mechanism's own wording (no "unknown user" against "wrong password").
 */

export type SaslStep =
  | { kind: "challenge"; token: Uint8Array }
  | {
    kind: "complete";
    /** The authenticated name; the principal is `User:<authorizationId>`. */
    authorizationId: string;
    /** The last server message (SCRAM's server-final), possibly empty. */
    token: Uint8Array;
    /** When the credential itself expires (an OAUTHBEARER token's `exp`), epoch ms. */
    credentialExpiresAtMs?: number;
  }
  | { kind: "failure"; reason: string; clientMessage: string };

export interface SaslServer {
  readonly mechanism: string;
  evaluate(token: Uint8Array): Promise<SaslStep>;
}

/** The generic message Kafka's authenticator sends for a mechanism's SaslException. */
export function invalidCredentialsMessage(mechanism: string): string {
  return `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`;
}

/** A failure the client sees only as Kafka's generic invalid-credentials message. */
export function genericFailure(mechanism: string, reason: string): SaslStep {
  return { kind: "failure", reason, clientMessage: invalidCredentialsMessage(mechanism) };
}

/** A failure whose message the client sees as is (Kafka's SaslAuthenticationException). */
export function visibleFailure(message: string): SaslStep {
  return { kind: "failure", reason: message, clientMessage: message };
}

export const utf8 = new TextEncoder();
/** Strict UTF-8: a token that is not text fails the exchange instead of being guessed at. */
export const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Compares two byte strings in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
