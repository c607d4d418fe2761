/**
 * SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the server side, as Kafka's
 * ScramSaslServer: client-first (`n,[a=authzid],n=user,r=nonce[,ext=value...]`), server-first
 * (`r=nonce+server nonce,s=salt,i=iterations`), client-final (`c=,r=,p=proof`), server-final
 * (`v=signature`). No channel binding (a `p=` gs2 header fails). Kafka's `tokenauth=true`
 * extension asks for delegation-token credentials, which this broker does not issue, so such a
 * login fails. An unknown user fails at once, with the same message the client gets for a
 * wrong password. The authzid, if given, must be the user name.
 */
import {
  base64,
  hash,
  hmac,
  type ScramCredential,
  type ScramMechanism,
  unbase64,
  usernameFromSaslName,
  xor,
} from "./scram_formatter.ts";
import {
  constantTimeEqual,
  genericFailure,
  type SaslServer,
  type SaslStep,
  utf8,
  utf8Strict,
  visibleFailure,
} from "./sasl_server.ts";

/** Where the SCRAM server finds a user's credential (the credential store). */
export interface ScramCredentialSource {
  credential(
    user: string,
    mechanism: ScramMechanism,
  ): ScramCredential | undefined | Promise<ScramCredential | undefined>;
}

const PRINTABLE = "[\\x21-\\x2b\\x2d-\\x7e]+"; // printable ASCII except ','
const EXTENSIONS = "((?:,[a-zA-Z]+=[^,]+)*)";
const CLIENT_FIRST = new RegExp(
  `^([ny]),(?:a=([^,]*))?,n=([^,]+),r=(${PRINTABLE})${EXTENSIONS}$`,
);
const CLIENT_FINAL = new RegExp(
  `^(c=([A-Za-z0-9+/=]*),r=(${PRINTABLE})${EXTENSIONS}),p=([A-Za-z0-9+/=]+)$`,
);

/** Kafka's ScramLoginModule.TOKEN_AUTH_CONFIG. */
const TOKEN_AUTH = "tokenauth";

type State = "first" | "final" | "done";

export class ScramSaslServer implements SaslServer {
  readonly mechanism: string;
  private state: State = "first";
  private user = "";
  private gs2Header = "";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";
  private clientNonce = "";
  private cred: ScramCredential | undefined;

  constructor(
    private readonly m: ScramMechanism,
    private readonly source: ScramCredentialSource,
    /** The server nonce; tests give a fixed one to replay RFC vectors. */
    private readonly serverNonce: () => string = randomNonce,
  ) {
    this.mechanism = m.name;
  }

  async evaluate(token: Uint8Array): Promise<SaslStep> {
    const step = await this.step(token).catch((e) =>
      genericFailure(this.m.name, `SCRAM exchange failed: ${e instanceof Error ? e.message : e}`)
    );
    if (step.kind !== "challenge") {
      this.state = "done";
      this.cred = undefined;
    }
    return step;
  }

  private async step(token: Uint8Array): Promise<SaslStep> {
    const fail = (reason: string) => genericFailure(this.m.name, reason);
    let text: string;
    try {
      text = utf8Strict.decode(token);
    } catch {
      return fail("SCRAM message is not UTF-8");
    }
    switch (this.state) {
      case "first": {
        const f = CLIENT_FIRST.exec(text);
        if (!f) return fail("Invalid SCRAM client first message");
        const [, , authzRaw, saslName, clientNonce, ext] = f;
        const user = usernameFromSaslName(saslName);
        if (user === null) return fail("Invalid SCRAM user name encoding");
        if (parseExtensions(ext).get(TOKEN_AUTH) === "true") {
          return fail(`Token Authentication failed: Invalid tokenId : ${JSON.stringify(user)}`);
        }
        const cred = await this.source.credential(user, this.m);
        if (!cred) return fail("Authentication failed: Invalid user credentials");
        const authz = authzRaw === undefined ? "" : usernameFromSaslName(authzRaw);
        if (authz !== "" && authz !== user) {
          return visibleFailure(
            "Authentication failed: Client requested an authorization id that is different from username",
          );
        }
        if (cred.iterations < this.m.minIterations) {
          return fail(
            `Iterations ${cred.iterations} is less than the minimum ${this.m.minIterations} for ${this.m.name}`,
          );
        }
        this.user = user;
        this.cred = cred;
        this.gs2Header = text.slice(0, text.indexOf(",", text.indexOf(",") + 1) + 1);
        this.clientFirstBare = text.slice(this.gs2Header.length);
        this.clientNonce = clientNonce;
        this.nonce = clientNonce + this.serverNonce();
        this.serverFirst = `r=${this.nonce},s=${base64(cred.salt)},i=${cred.iterations}`;
        this.state = "final";
        return { kind: "challenge", token: utf8.encode(this.serverFirst) };
      }
      case "final": {
        const f = CLIENT_FINAL.exec(text);
        if (!f) return fail("Authentication failed: Invalid client final message");
        const [, withoutProof, channel, nonce, , proofText] = f;
        // Kafka 3.x accepts a nonce that ends with the combined one (its check is endsWith):
        // librdkafka before 2.2 sends its own nonce again in front of the combined one.
        const combined = this.nonce;
        if (nonce !== combined && nonce !== this.clientNonce + combined) {
          return fail("Invalid client nonce in the final client message.");
        }
        const binding = unbase64(channel);
        if (!binding || new TextDecoder().decode(binding) !== this.gs2Header) {
          return fail("Invalid channel binding in the final client message.");
        }
        const proof = unbase64(proofText);
        const cred = this.cred!;
        if (!proof || proof.length !== this.m.keyBytes) return fail("Invalid client credentials");
        const authMessage = utf8.encode(
          `${this.clientFirstBare},${this.serverFirst},${withoutProof}`,
        );
        const clientSignature = await hmac(this.m, cred.storedKey, authMessage);
        const computedStoredKey = await hash(this.m, xor(clientSignature, proof));
        if (!constantTimeEqual(computedStoredKey, cred.storedKey)) {
          return fail("Invalid client credentials");
        }
        const serverSignature = await hmac(this.m, cred.serverKey, authMessage);
        return {
          kind: "complete",
          authorizationId: this.user,
          token: utf8.encode(`v=${base64(serverSignature)}`),
        };
      }
      default:
        return fail("Unexpected SCRAM message after the exchange ended");
    }
  }
}

function parseExtensions(ext: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of ext.split(",").filter((s) => s !== "")) {
    const i = kv.indexOf("=");
    out.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return out;
}

/** 24 random bytes as base64 without padding: printable, no ','. */
function randomNonce(): string {
  return base64(crypto.getRandomValues(new Uint8Array(24))).replace(/=+$/, "");
}
