/**
 * SASL/OAUTHBEARER (RFC 7628), the server side, as Kafka's OAuthBearerSaslServer. The client's
 * one message is `n,[a=authzid],\x01auth=Bearer <token>\x01[key=value\x01]...\x01`. A token the
 * validator refuses is answered, as RFC 7628 section 3.2.2 says, with a JSON error challenge
 * (`{"status":"invalid_token"}`); the client acknowledges it with a lone \x01 and the exchange
 * then fails with that JSON as its message, which is what Kafka's clients show. SASL
 * extensions are accepted and ignored (Kafka ignores those no callback validates).
 */
import {
  genericFailure,
  type SaslServer,
  type SaslStep,
  utf8,
  utf8Strict,
  visibleFailure,
} from "./sasl_server.ts";

export type OAuthValidation =
  | { ok: true; principal: string; expiresAtMs: number; scope: string[] }
  | {
    ok: false;
    /** RFC 7628's error status: `invalid_token` or `insufficient_scope`. */
    status: string;
    scope?: string;
    /** Why, for the broker's log. */
    reason: string;
  };

/** Checks a bearer token (Kafka's OAuthBearerValidatorCallback handlers). */
export interface OAuthBearerValidator {
  validate(token: string): Promise<OAuthValidation>;
}

const CONTROL_A = "\x01";
const AUTH = /^([A-Za-z0-9_]+) +([-_.a-zA-Z0-9]+)$/;

/** Parses the client's initial response; a string is the reason it is not one. */
export function parseClientInitialResponse(
  text: string,
): { authzid: string; token: string; extensions: Map<string, string> } | string {
  const g = /^[ny],(?:a=([^,]*))?,/.exec(text);
  if (!g) return "Invalid OAUTHBEARER client first message: bad GS2 header";
  const rest = text.slice(g[0].length);
  if (!rest.startsWith(CONTROL_A) || !rest.endsWith(CONTROL_A + CONTROL_A)) {
    return "Invalid OAUTHBEARER client first message";
  }
  const pairs = rest.slice(1, -2).split(CONTROL_A);
  let token: string | undefined;
  const extensions = new Map<string, string>();
  for (const kv of pairs) {
    const i = kv.indexOf("=");
    if (i <= 0) return "Invalid OAUTHBEARER client first message: bad key-value pair";
    const key = kv.slice(0, i);
    const value = kv.slice(i + 1);
    if (key === "auth") {
      const a = AUTH.exec(value);
      if (!a || a[1].toLowerCase() !== "bearer") {
        return "Invalid OAUTHBEARER client first message: the auth value is not 'Bearer <token>'";
      }
      token = a[2];
    } else extensions.set(key, value);
  }
  if (token === undefined) return "Invalid OAUTHBEARER client first message: no auth value";
  return { authzid: g[1] ?? "", token, extensions };
}

/** RFC 7628's error JSON, in Kafka's field order and spacing. */
export function jsonErrorResponse(status: string, scope?: string): string {
  return `{"status":"${status}"${scope !== undefined ? `, "scope":"${scope}"` : ""}}`;
}

export class OAuthBearerSaslServer implements SaslServer {
  readonly mechanism = "OAUTHBEARER";
  private state: "first" | "errorSent" | "done" = "first";
  private errorMessage = "";
  private errorReason = "";

  constructor(private readonly validator: OAuthBearerValidator) {}

  async evaluate(token: Uint8Array): Promise<SaslStep> {
    if (this.state === "errorSent") {
      this.state = "done";
      return token.length === 1 && token[0] === 1
        ? { kind: "failure", reason: this.errorReason, clientMessage: this.errorMessage }
        : genericFailure("OAUTHBEARER", "the client did not acknowledge the error challenge");
    }
    if (this.state === "done") {
      return genericFailure("OAUTHBEARER", "Unexpected OAUTHBEARER message");
    }
    this.state = "done";
    let text: string;
    try {
      text = utf8Strict.decode(token);
    } catch {
      return visibleFailure("Invalid OAUTHBEARER client first message: not UTF-8");
    }
    const r = parseClientInitialResponse(text);
    if (typeof r === "string") return visibleFailure(r);
    const v = await this.validator.validate(r.token);
    if (!v.ok) {
      this.errorMessage = jsonErrorResponse(v.status, v.scope);
      this.errorReason = v.reason;
      this.state = "errorSent";
      return { kind: "challenge", token: utf8.encode(this.errorMessage) };
    }
    if (r.authzid !== "" && r.authzid !== v.principal) {
      return visibleFailure(
        `Authentication failed: Client requested an authorization id (${r.authzid}) that is different from the token's principal name (${v.principal})`,
      );
    }
    return {
      kind: "complete",
      authorizationId: v.principal,
      token: new Uint8Array(0),
      credentialExpiresAtMs: v.expiresAtMs,
    };
  }
}
