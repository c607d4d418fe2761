/**
 * SASL/PLAIN (RFC 4616), the server side, as Kafka's PlainSaslServer: one message
 * `authzid NUL authcid NUL password`; the authzid must be empty or the user name. Kafka's
 * texts: a wrong user or password is "Authentication failed: Invalid username or password",
 * which the client sees as is.
 */
import {
  genericFailure,
  type SaslServer,
  type SaslStep,
  utf8Strict,
  visibleFailure,
} from "./sasl_server.ts";

/** Checks a PLAIN user's password (a users file, JAAS `user_<name>` options). */
export interface PlainCredentials {
  authenticate(user: string, password: string): Promise<boolean>;
}

export class PlainSaslServer implements SaslServer {
  readonly mechanism = "PLAIN";
  private done = false;

  constructor(private readonly users: PlainCredentials) {}

  async evaluate(token: Uint8Array): Promise<SaslStep> {
    if (this.done) return genericFailure("PLAIN", "Unexpected SASL/PLAIN message");
    this.done = true;
    let text: string;
    try {
      text = utf8Strict.decode(token);
    } catch {
      return genericFailure("PLAIN", "Invalid SASL/PLAIN response: not UTF-8");
    }
    const tokens = text.split("\u0000");
    if (tokens.length !== 3) {
      return genericFailure(
        "PLAIN",
        `Invalid SASL/PLAIN response: expected 3 tokens, got ${tokens.length}`,
      );
    }
    const [authzid, user, password] = tokens;
    if (user === "") {
      return genericFailure("PLAIN", "Authentication failed: username not specified");
    }
    if (password === "") {
      return genericFailure("PLAIN", "Authentication failed: password not specified");
    }
    if (!(await this.users.authenticate(user, password))) {
      return visibleFailure("Authentication failed: Invalid username or password");
    }
    if (authzid !== "" && authzid !== user) {
      return visibleFailure(
        "Authentication failed: Client requested an authorization id that is different from username",
      );
    }
    return { kind: "complete", authorizationId: user, token: new Uint8Array(0) };
  }
}
