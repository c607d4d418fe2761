/**
 * SaslHandshake (key 17), v0–1.
 * Behaviour: on a SASL listener the handshake is answered by the connection's authenticator
 * (src/security/sasl_authenticator.ts, Kafka's SaslServerAuthenticator) before requests reach
 * this registry, including a re-authentication's (KIP-368). What does reach here is a
 * handshake Kafka's KafkaApis would see: on a listener without SASL, or on an authenticated
 * connection that cannot re-authenticate; like Kafka it gets ILLEGAL_SASL_STATE.
 * Version notes: v0 is followed by raw length-prefixed SASL tokens; v1 by SaslAuthenticate
 * requests (KIP-152).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { SaslHandshakeRequest, SaslHandshakeResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const saslHandshake = defineApi({
  apiKey: 17,
  name: "SaslHandshake",
  minVersion: 0,
  maxVersion: 1,
  request: SaslHandshakeRequest,
  response: SaslHandshakeResponse,
  placement: "any",
  retainsRequestBytes: false,
  handler: () => ({ errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] }),
});
