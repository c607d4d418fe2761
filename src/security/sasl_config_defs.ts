/**
 * The SASL settings this broker acts on, under Kafka's names (plus `sasl.plain.users.file`,
 * this broker's own), for the table in broker_config_defs.ts. Each may also be given per
 * listener as `listener.name.<listener>.<name>`, and the JAAS and re-authentication ones per
 * mechanism as `listener.name.<listener>.<mechanism>.<name>`, as in Kafka.
 */
import type { ConfigDef } from "../config_def.ts";

export const SASL_CONFIGS: ConfigDef[] = [
  {
    name: "sasl.enabled.mechanisms",
    type: "list",
    default: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    doc: "SASL mechanisms a SASL listener offers: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, " +
      "OAUTHBEARER (Kafka's default GSSAPI is not supported: naming it is a start-up error).",
  },
  {
    name: "sasl.jaas.config",
    type: "password",
    default: null,
    doc: 'JAAS entry: PlainLoginModule\'s user_<name>="<password>" options (PLAIN users), ' +
      "OAuthBearerLoginModule's unsecuredValidator* options.",
  },
  {
    name: "sasl.plain.users.file",
    type: "string",
    default: null,
    doc: "PLAIN users: name = pbkdf2-sha512$iterations$salt$hash lines " +
      "(deno task tributary hash-password); reread when it changes.",
  },
  {
    name: "connections.max.reauth.ms",
    type: "long",
    default: 0,
    doc: "Session lifetime of a SASL login (KIP-368): a client re-authenticates within it " +
      "or its connection is closed; 0: sessions do not expire (except with their token).",
    min: 0,
  },
  {
    name: "connection.failed.authentication.delay.ms",
    type: "int",
    default: 100,
    doc: "How long a failed SASL login waits before its answer and the close.",
    min: 0,
  },
  {
    name: "sasl.server.max.receive.size",
    type: "int",
    default: 524288,
    doc: "Largest frame read from a client before it has authenticated.",
    min: 1,
  },
  {
    name: "sasl.oauthbearer.jwks.endpoint.url",
    type: "string",
    default: null,
    doc: "OAUTHBEARER: the JWKS that signs tokens, a file: (reread on change) or https: URL; " +
      "unset: Kafka's unsecured (alg none) validator, for development only.",
  },
  {
    name: "sasl.oauthbearer.jwks.endpoint.refresh.ms",
    type: "long",
    default: 3600000,
    doc: "OAUTHBEARER: how often an https: JWKS is fetched again.",
    min: 0,
  },
  {
    name: "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
    type: "long",
    default: 100,
    doc: "OAUTHBEARER: the least wait between fetches of an https: JWKS (unknown key ids, errors).",
    min: 0,
  },
  {
    name: "sasl.oauthbearer.expected.audience",
    type: "list",
    default: null,
    doc: "OAUTHBEARER: audiences of which a token's aud must name one.",
  },
  {
    name: "sasl.oauthbearer.expected.issuer",
    type: "string",
    default: null,
    doc: "OAUTHBEARER: the iss a token must have.",
  },
  {
    name: "sasl.oauthbearer.sub.claim.name",
    type: "string",
    default: "sub",
    doc: "OAUTHBEARER: the claim holding the principal name.",
  },
  {
    name: "sasl.oauthbearer.scope.claim.name",
    type: "string",
    default: "scope",
    doc: "OAUTHBEARER: the claim holding the token's scopes.",
  },
  {
    name: "sasl.oauthbearer.clock.skew.seconds",
    type: "int",
    default: 30,
    doc: "OAUTHBEARER: slack allowed between the token's times and the broker's clock.",
    min: 0,
  },
];
