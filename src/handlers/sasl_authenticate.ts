/**
 * SaslAuthenticate (key 36), v0–2.
 * Behaviour: on a SASL listener the tokens are evaluated by the connection's authenticator
 * (src/security/sasl_authenticator.ts) before requests reach this registry. What does reach
 * here is what Kafka's KafkaApis answers: a SaslAuthenticate on a listener without SASL, or
 * after authentication completed without a new handshake, gets ILLEGAL_SASL_STATE.
 * Version notes: v1 adds sessionLifetimeMs (KIP-368 re-authentication); v2 is flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const saslAuthenticate = defineApi({
  apiKey: 36,
  name: "SaslAuthenticate",
  minVersion: 0,
  maxVersion: 2,
  request: SaslAuthenticateRequest,
  response: SaslAuthenticateResponse,
  placement: "any",
  retainsRequestBytes: false,
  handler: () => ({
    errorCode: ErrorCode.ILLEGAL_SASL_STATE,
    errorMessage: "SaslAuthenticate request received after successful authentication",
    authBytes: new Uint8Array(0),
    sessionLifetimeMs: 0,
  }),
});
