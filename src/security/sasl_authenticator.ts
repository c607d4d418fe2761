/**
 * One connection's SASL authentication on a SASL_PLAINTEXT or SASL_SSL listener, Kafka's
 * SaslServerAuthenticator: it sees every request frame before KafkaApis does.
 *
 * Until the login completes only ApiVersions, SaslHandshake and SaslAuthenticate are served;
 * any other request closes the connection with a logged reason. SaslHandshake v1 is followed
 * by SaslAuthenticate requests; v0 (KIP-152's legacy framing) by raw length-prefixed tokens
 * with no Kafka header, answered the same way. An unknown mechanism gets
 * UNSUPPORTED_SASL_MECHANISM with the enabled list, an out-of-order request
 * ILLEGAL_SASL_STATE, and both close the connection after the answer. A failed login is
 * answered with SASL_AUTHENTICATION_FAILED and Kafka's message. Every failure is answered after
 * `connection.failed.authentication.delay.ms` (so guessing passwords is slow), then closed.
 *
 * A login sets the session's principal (`User:<name>`) and mechanism. A SaslAuthenticate v1+
 * login gets a session lifetime, the lesser of `connections.max.reauth.ms` and the token's
 * expiry (KIP-368): before it ends the client sends a new SaslHandshake and SaslAuthenticate
 * on the same connection, with the same mechanism and principal; a request after the session
 * ended, other than that handshake, closes the connection.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  readHeaderTaggedFields,
  readRequestHeaderV1,
  writeResponseHeader,
} from "../../protocol/headers.ts";
import type { RequestHeader } from "../../protocol/headers.ts";
import {
  type SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  type SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import { Reader, Writer } from "../../protocol/primitives.ts";
import { codecFor, isFlexible, type MessageSchema } from "../../protocol/schema.ts";
import { CloseConnection } from "../close_connection.ts";
import { saslAuthenticate } from "../handlers/sasl_authenticate.ts";
import { saslHandshake } from "../handlers/sasl_handshake.ts";
import { errText, log } from "../log.ts";
import type { SaslServer } from "./sasl/sasl_server.ts";
import type { SaslListener } from "./sasl_listener.ts";
import type { Session } from "./session.ts";

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/** Where authentication outcomes, and the handshake's requests, are counted (src/metrics.ts). */
export interface AuthenticationCounter {
  authentication(mechanism: string, outcome: "success" | "failure", reauth: boolean): void;
  request(apiKey: number, version: number, errorCodes: number, latencyMs: number): void;
}

type State =
  /** Waiting for SaslHandshake (ApiVersions allowed). */
  | "handshake"
  /** After SaslHandshake v1: SaslAuthenticate requests carry the tokens. */
  | "authenticate"
  /** After SaslHandshake v0: the next frames are raw tokens. */
  | "rawToken"
  | "authenticated"
  /** A failed exchange: the connection closes once its answer is written. */
  | "failed";

export class SaslAuthenticator {
  private state: State = "handshake";
  private server: SaslServer | null = null;
  private mechanism = "";
  /** Whether the login used SaslAuthenticate v1+, so the client can re-authenticate. */
  private canReauthenticate = false;
  private reauthenticating = false;
  private sessionExpiresAtMs = 0;
  /** Set when the connection must close once the current answer is written. */
  private closeAfter: string | null = null;

  constructor(
    private readonly listener: SaslListener,
    readonly session: Session,
    private readonly conn: { id: number; remote: string },
    private readonly counter?: AuthenticationCounter,
    private readonly now: () => number = Date.now,
  ) {}

  get authenticated(): boolean {
    return this.state === "authenticated" || this.reauthenticating;
  }

  /** The largest frame to read now: `sasl.server.max.receive.size` until authenticated. */
  maxFrameBytes(normal: number): number {
    return this.authenticated ? normal : Math.min(normal, this.listener.maxReceiveBytes);
  }

  /** Why the connection must close now that its last answer is written, if it must. */
  takeCloseReason(): string | null {
    const r = this.closeAfter;
    this.closeAfter = null;
    return r;
  }

  /**
   * Handles `frame` if it is part of authentication (a SASL request or a raw token) and
   * returns the encoded answer (null: none); returns undefined for a request KafkaApis
   * handles. Throws CloseConnection for a request that may not be served yet.
   */
  intercept(frame: Uint8Array): Promise<Uint8Array[] | null> | undefined {
    if (this.state === "rawToken") return this.rawToken(frame);
    if (this.state === "failed") {
      return Promise.reject(new CloseConnection("request after a failed SASL authentication"));
    }
    const apiKey = frame.length >= 2 ? (frame[0] << 8) | frame[1] : -1;
    if (apiKey === SASL_HANDSHAKE || apiKey === SASL_AUTHENTICATE) {
      // After a login, only a re-authentication's handshake is the authenticator's; the
      // rest is KafkaApis' (ILLEGAL_SASL_STATE, as in Kafka).
      const reauthStart = apiKey === SASL_HANDSHAKE && this.canReauthenticate;
      if (this.state === "authenticated" && !reauthStart) return undefined;
      return this.saslRequest(frame, apiKey);
    }
    if (this.state === "authenticated" || this.reauthenticating) {
      if (this.sessionExpiresAtMs > 0 && this.now() > this.sessionExpiresAtMs) {
        throw new CloseConnection(
          `SASL session of ${this.session.principal} expired without re-authentication`,
          { level: "info" },
        );
      }
      return undefined;
    }
    if (apiKey === API_VERSIONS) return undefined;
    throw new CloseConnection(
      `request with api key ${apiKey} before SASL authentication completed on listener ` +
        this.listener.listenerName,
    );
  }

  private async saslRequest(frame: Uint8Array, apiKey: number): Promise<Uint8Array[]> {
    const r = new Reader(frame);
    let header: RequestHeader;
    const reg = apiKey === SASL_HANDSHAKE ? saslHandshake : saslAuthenticate;
    let body;
    try {
      header = readRequestHeaderV1(r);
      if (header.apiVersion < reg.minVersion || header.apiVersion > reg.maxVersion) {
        throw new CloseConnection(
          `unsupported version ${header.apiVersion} of ${reg.name} (supported ${reg.minVersion}-${reg.maxVersion})`,
        );
      }
      if (isFlexible(reg.request, header.apiVersion)) readHeaderTaggedFields(r, header);
      body = codecFor(reg.request as MessageSchema<unknown>, header.apiVersion).decode(r);
    } catch (e) {
      if (e instanceof CloseConnection) throw e;
      throw new CloseConnection(`malformed ${reg.name} request: ${errText(e)}`);
    }
    const started = performance.now();
    // Counted as KafkaApis counts requests, before the failure delay (which is no work).
    const counted = (errorCode: number) =>
      this.counter?.request(apiKey, header.apiVersion, errorCode, performance.now() - started);
    if (apiKey === SASL_HANDSHAKE) {
      const resp = this.handshake(header.apiVersion, (body as SaslHandshakeRequest).mechanism);
      counted(resp.errorCode);
      if (this.state === "failed") await this.failureDelay();
      return encode(header, SaslHandshakeResponse, resp);
    }
    const resp = await this.authenticate(
      header.apiVersion,
      (body as SaslAuthenticateRequest).authBytes,
    );
    counted(resp.errorCode);
    // Every failed exchange is answered late (Kafka's delayed close on authentication failure).
    if (this.state === "failed") await this.failureDelay();
    return encode(header, SaslAuthenticateResponse, resp);
  }

  private handshake(version: number, mechanism: string): SaslHandshakeResponse {
    const mechanisms = [...this.listener.enabledMechanisms];
    const reauth = this.state === "authenticated";
    if (this.state !== "handshake" && !reauth) {
      this.fail(`SaslHandshake in SASL state ${this.state}`);
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
    }
    const shown = JSON.stringify(mechanism.slice(0, 64));
    if (!mechanisms.includes(mechanism)) {
      this.fail(`unsupported SASL mechanism ${shown} (enabled: ${mechanisms.join(", ")})`);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
    }
    if (reauth && mechanism !== this.mechanism) {
      this.fail(`re-authentication with ${shown}, not the session's ${this.mechanism}`);
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [this.mechanism] };
    }
    this.server = this.listener.createServer(mechanism);
    this.mechanism = mechanism;
    this.reauthenticating = reauth;
    this.state = version === 0 ? "rawToken" : "authenticate";
    return { errorCode: ErrorCode.NONE, mechanisms };
  }

  private async authenticate(
    version: number,
    token: Uint8Array,
  ): Promise<SaslAuthenticateResponse> {
    const empty = new Uint8Array(0);
    if (this.state !== "authenticate") {
      this.fail(`SaslAuthenticate in SASL state ${this.state}`);
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: `Unexpected SaslAuthenticate request in SASL state ${this.state}`,
        authBytes: empty,
        sessionLifetimeMs: 0,
      };
    }
    const step = await this.evaluate(token);
    if (step.kind === "failure") {
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: step.clientMessage,
        authBytes: empty,
        sessionLifetimeMs: 0,
      };
    }
    if (step.kind === "challenge") {
      return { errorCode: 0, errorMessage: null, authBytes: step.token, sessionLifetimeMs: 0 };
    }
    const lifetime = this.complete(step.authorizationId, step.credentialExpiresAtMs, version);
    if (lifetime === null) {
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage:
          `Cannot change principals during re-authentication from ${this.session.principal}`,
        authBytes: empty,
        sessionLifetimeMs: 0,
      };
    }
    return { errorCode: 0, errorMessage: null, authBytes: step.token, sessionLifetimeMs: lifetime };
  }

  /** A raw token after SaslHandshake v0: answered with a raw token, or closed on failure. */
  private async rawToken(frame: Uint8Array): Promise<Uint8Array[] | null> {
    const step = await this.evaluate(frame.slice());
    if (step.kind === "failure") {
      await this.failureDelay();
      return null; // v0 has no way to say why: the close is the answer
    }
    if (step.kind === "complete" && this.complete(step.authorizationId, undefined, 0) === null) {
      await this.failureDelay();
      return null;
    }
    const w = new Writer(step.token.length + 4);
    w.int32(step.token.length);
    w.raw(step.token);
    return w.toChunks();
  }

  /** Runs the mechanism; a failure is counted, logged and marks the connection for closing. */
  private async evaluate(token: Uint8Array) {
    let step;
    try {
      step = await this.server!.evaluate(token);
    } catch (e) {
      step = {
        kind: "failure" as const,
        reason: `SASL server error: ${errText(e)}`,
        clientMessage:
          `Authentication failed: an internal error with SASL mechanism ${this.mechanism}`,
      };
    }
    if (step.kind === "failure") {
      this.counter?.authentication(this.mechanism, "failure", this.reauthenticating);
      this.fail(`failed SASL ${this.mechanism} authentication: ${step.reason}`);
    }
    return step;
  }

  /**
   * Completes a login: the session's principal and mechanism, and the session lifetime for a
   * client that can re-authenticate (`version` ≥ 1). Null when a re-authentication changed
   * the principal (the connection then closes).
   */
  private complete(name: string, credentialExpiresAtMs: number | undefined, version: number) {
    const principal = `User:${name}`;
    const reauth = this.reauthenticating;
    this.server = null;
    this.reauthenticating = false;
    if (reauth && principal !== this.session.principal) {
      this.counter?.authentication(this.mechanism, "failure", true);
      this.fail(`re-authentication as ${principal} on a session of ${this.session.principal}`);
      return null;
    }
    this.state = "authenticated";
    this.session.principal = principal;
    this.session.saslMechanism = this.mechanism;
    this.counter?.authentication(this.mechanism, "success", reauth);
    const now = this.now();
    this.canReauthenticate = version >= 1;
    let lifetime = 0;
    if (this.canReauthenticate) {
      const maxReauth = this.listener.maxReauthMs(this.mechanism);
      const credential = credentialExpiresAtMs === undefined
        ? undefined
        : Math.max(0, credentialExpiresAtMs - now);
      if (maxReauth > 0 && credential !== undefined) lifetime = Math.min(maxReauth, credential);
      else if (maxReauth > 0) lifetime = maxReauth;
      else if (credential !== undefined) lifetime = credential;
    }
    this.sessionExpiresAtMs = lifetime > 0 ? now + lifetime : 0;
    log.debug(
      `connection ${this.conn.id} from ${this.conn.remote}: ${
        reauth ? "re-authenticated" : "authenticated"
      } as ${principal} with ${this.mechanism}` +
        (lifetime > 0 ? ` for ${lifetime} ms` : ""),
    );
    return lifetime;
  }

  private fail(reason: string): void {
    this.state = "failed";
    this.server = null;
    this.reauthenticating = false;
    this.closeAfter ??= reason;
  }

  private failureDelay(): Promise<void> {
    const ms = this.listener.failedAuthenticationDelayMs;
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }
}

function encode<T>(header: RequestHeader, schema: MessageSchema<T>, body: T): Uint8Array[] {
  const w = new Writer(256);
  w.int32(0);
  writeResponseHeader(w, header.correlationId, isFlexible(schema, header.apiVersion));
  codecFor(schema, header.apiVersion).encode(w, body as never);
  w.patchInt32AtStart(w.length - 4);
  return w.toChunks();
}
