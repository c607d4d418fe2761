/**
 * The SASL mechanisms' server sides (src/security/sasl/): SCRAM against the RFC 7677 vector
 * and round trips, PLAIN (RFC 4616, Kafka's authzid rule and messages), OAUTHBEARER with
 * unsecured and JWKS-signed tokens; the JAAS parser and the users file's password hashes.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { parseJaasConfig } from "../../src/security/jaas.ts";
import { hashPassword, verifyPassword } from "../../src/security/password_hash.ts";
import { jaasPlainUsers, parseUsersFile, PlainUsers } from "../../src/security/plain_users.ts";
import { OAuthBearerSaslServer } from "../../src/security/sasl/oauthbearer.ts";
import {
  JwksValidator,
  UnsecuredJwsValidator,
} from "../../src/security/sasl/oauthbearer_validators.ts";
import { PlainSaslServer } from "../../src/security/sasl/plain.ts";
import type { SaslStep } from "../../src/security/sasl/sasl_server.ts";
import { ScramSaslServer } from "../../src/security/sasl/scram.ts";
import {
  credentialFromPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
  type ScramCredential,
  type ScramMechanism,
  unbase64,
} from "../../src/security/sasl/scram_formatter.ts";
import { ScramClient } from "../support/scram_client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function sourceOf(creds: Record<string, ScramCredential>) {
  return { credential: (user: string, _m: ScramMechanism) => creds[user] };
}

function expectFailure(step: SaslStep, clientMessage: string): string {
  assert.equal(step.kind, "failure");
  if (step.kind !== "failure") throw new Error();
  assert.equal(step.clientMessage, clientMessage);
  return step.reason;
}

const SCRAM_256_FAILED =
  "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256";

Deno.test("SCRAM-SHA-256: the RFC 7677 section 3 exchange, byte for byte", async () => {
  const salt = unbase64("W22ZaJ0SNY7soEsUEjb6gQ==")!;
  const cred = await credentialFromPassword(SCRAM_SHA_256, "pencil", 4096, salt);
  const server = new ScramSaslServer(
    SCRAM_SHA_256,
    sourceOf({ user: cred }),
    () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  );
  const first = await server.evaluate(enc.encode("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
  assert.equal(first.kind, "challenge");
  assert.equal(
    dec.decode((first as { token: Uint8Array }).token),
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  );
  const final = await server.evaluate(
    enc.encode(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," +
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    ),
  );
  assert.equal(final.kind, "complete");
  if (final.kind !== "complete") return;
  assert.equal(final.authorizationId, "user");
  assert.equal(dec.decode(final.token), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  // Nothing more is accepted once the exchange is over.
  assert.equal((await server.evaluate(enc.encode("x"))).kind, "failure");
});

for (const m of [SCRAM_SHA_256, SCRAM_SHA_512]) {
  Deno.test(`${m.name}: a client round trip, and the server's signature checks`, async () => {
    const cred = await credentialFromPassword(m, "s3cr3t,=x", 4096);
    const server = new ScramSaslServer(m, sourceOf({ "a,b=c": cred }));
    const client = new ScramClient(m, "a,b=c", "s3cr3t,=x");
    const first = await server.evaluate(client.first());
    assert.equal(first.kind, "challenge");
    const done = await server.evaluate(await client.final((first as { token: Uint8Array }).token));
    assert.equal(done.kind, "complete");
    if (done.kind !== "complete") return;
    assert.equal(done.authorizationId, "a,b=c");
    assert.ok(await client.verifyServerFinal(done.token));
    assert.equal(done.credentialExpiresAtMs, undefined);
  });

  Deno.test(`${m.name}: a wrong password fails with Kafka's generic message`, async () => {
    const cred = await credentialFromPassword(m, "right", 4096);
    const server = new ScramSaslServer(m, sourceOf({ alice: cred }));
    const client = new ScramClient(m, "alice", "wrong");
    const first = await server.evaluate(client.first());
    const step = await server.evaluate(await client.final((first as { token: Uint8Array }).token));
    const reason = expectFailure(
      step,
      `Authentication failed during authentication due to invalid credentials with SASL mechanism ${m.name}`,
    );
    assert.equal(reason, "Invalid client credentials");
  });
}

Deno.test("SCRAM: an unknown user fails at once, as a wrong password does", async () => {
  const server = new ScramSaslServer(SCRAM_SHA_256, sourceOf({}));
  const step = await server.evaluate(new ScramClient(SCRAM_SHA_256, "bob", "x").first());
  assert.equal(
    expectFailure(step, SCRAM_256_FAILED),
    "Authentication failed: Invalid user credentials",
  );
});

Deno.test("SCRAM: a final message with another nonce is refused", async () => {
  const cred = await credentialFromPassword(SCRAM_SHA_256, "pw", 4096);
  const server = new ScramSaslServer(SCRAM_SHA_256, sourceOf({ alice: cred }));
  const client = new ScramClient(SCRAM_SHA_256, "alice", "pw", "clientnonce");
  await server.evaluate(client.first());
  const first = await new ScramSaslServer(SCRAM_SHA_256, sourceOf({ alice: cred }))
    .evaluate(client.first()); // another server's nonce
  const step = await server.evaluate(await client.final((first as { token: Uint8Array }).token));
  assert.equal(
    expectFailure(step, SCRAM_256_FAILED),
    "Invalid client nonce in the final client message.",
  );
});

Deno.test("SCRAM: authzid, tokenauth, channel binding, iterations, garbage", async () => {
  const cred = await credentialFromPassword(SCRAM_SHA_256, "pw", 4096);
  const src = sourceOf({ alice: cred });
  const s = () => new ScramSaslServer(SCRAM_SHA_256, src);
  // An authzid other than the user name: Kafka's visible message.
  expectFailure(
    await s().evaluate(enc.encode("n,a=bob,n=alice,r=abc")),
    "Authentication failed: Client requested an authorization id that is different from username",
  );
  // The same name as authzid is fine.
  assert.equal((await s().evaluate(enc.encode("n,a=alice,n=alice,r=abc"))).kind, "challenge");
  // Delegation tokens are not issued here.
  expectFailure(
    await s().evaluate(enc.encode("n,,n=alice,r=abc,tokenauth=true")),
    SCRAM_256_FAILED,
  );
  // Other extensions are ignored, as in Kafka.
  assert.equal((await s().evaluate(enc.encode("n,,n=alice,r=abc,foo=bar"))).kind, "challenge");
  // Channel binding is not supported.
  expectFailure(await s().evaluate(enc.encode("p=tls-unique,,n=alice,r=abc")), SCRAM_256_FAILED);
  // A stored credential below the mechanism's minimum iterations.
  const weak = await credentialFromPassword(SCRAM_SHA_256, "pw", 1000);
  const reason = expectFailure(
    await new ScramSaslServer(SCRAM_SHA_256, sourceOf({ alice: weak })).evaluate(
      enc.encode("n,,n=alice,r=abc"),
    ),
    SCRAM_256_FAILED,
  );
  assert.equal(reason, "Iterations 1000 is less than the minimum 4096 for SCRAM-SHA-256");
  for (const junk of [new Uint8Array([0xff, 0xfe]), enc.encode(""), enc.encode("n,,r=abc")]) {
    expectFailure(await s().evaluate(junk), SCRAM_256_FAILED);
  }
  // A channel-binding value other than the GS2 header of the first message.
  const server = s();
  const client = new ScramClient(SCRAM_SHA_256, "alice", "pw", "n1", "n,a=alice,");
  const first = await server.evaluate(client.first());
  const final = dec.decode(await client.final((first as { token: Uint8Array }).token));
  const forged = final.replace(/^c=[^,]*/, "c=biws");
  expectFailure(await server.evaluate(enc.encode(forged)), SCRAM_256_FAILED);
});

// ---- PLAIN ----

const plainUsers = new PlainUsers(null, new Map([["alice", "alice-secret"]]));
const plain = (s: string) => new PlainSaslServer(plainUsers).evaluate(enc.encode(s));

Deno.test("PLAIN: the right password, with an empty or equal authzid", async () => {
  for (const msg of ["\0alice\0alice-secret", "alice\0alice\0alice-secret"]) {
    const step = await plain(msg);
    assert.equal(step.kind, "complete");
    assert.equal((step as { authorizationId: string }).authorizationId, "alice");
  }
});

Deno.test("PLAIN: wrong password, unknown user, other authzid, malformed", async () => {
  const bad = "Authentication failed: Invalid username or password";
  expectFailure(await plain("\0alice\0wrong"), bad);
  expectFailure(await plain("\0bob\0alice-secret"), bad);
  expectFailure(
    await plain("bob\0alice\0alice-secret"),
    "Authentication failed: Client requested an authorization id that is different from username",
  );
  const generic =
    "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN";
  assert.equal(
    expectFailure(await plain("alice\0alice-secret"), generic),
    "Invalid SASL/PLAIN response: expected 3 tokens, got 2",
  );
  assert.equal(
    expectFailure(await plain("\0\0x"), generic),
    "Authentication failed: username not specified",
  );
  assert.equal(
    expectFailure(await plain("\0alice\0"), generic),
    "Authentication failed: password not specified",
  );
});

Deno.test("PLAIN users file: hashed passwords, reread when changed; the file wins", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/users.properties`;
    const h = await hashPassword("file-pw", 1000);
    Deno.writeTextFileSync(file, `# users\nalice = ${h}\n`);
    assert.ok(!Deno.readTextFileSync(file).includes("file-pw"));
    const users = new PlainUsers(file, new Map([["alice", "jaas-pw"], ["carol", "c-pw"]]));
    assert.equal(await users.authenticate("alice", "file-pw"), true);
    assert.equal(await users.authenticate("alice", "jaas-pw"), false);
    assert.equal(await users.authenticate("carol", "c-pw"), true);
    assert.equal(await users.authenticate("bob", "b-pw"), false);
    Deno.writeTextFileSync(file, `alice = ${h}\nbob: ${await hashPassword("b-pw", 1000)}\n`);
    assert.equal(await users.authenticate("bob", "b-pw"), true);
    assert.throws(() => parseUsersFile("dave = plaintext\n", "u"), /user 'dave' is not a pbkdf2/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("password hashes: format, verify, malformed ones never match", async () => {
  const h = await hashPassword("pw", 2000);
  assert.match(h, /^pbkdf2-sha512\$2000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]{88}$/);
  assert.notEqual(await hashPassword("pw", 2000), h); // a fresh salt each time
  assert.equal(await verifyPassword(h, "pw"), true);
  assert.equal(await verifyPassword(h, "pW"), false);
  assert.equal(await verifyPassword("pbkdf2-sha512$2000$AAAA$AAAA", "pw"), false);
  assert.equal(await verifyPassword("pw", "pw"), false);
});

Deno.test("JAAS: Kafka's PlainLoginModule entry with user_ options", () => {
  const e = parseJaasConfig(
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" ' +
      'password="admin-secret" user_admin="admin-secret" user_alice="a \\"q\\" b" user_x=y;',
  );
  assert.equal(e.loginModule, "org.apache.kafka.common.security.plain.PlainLoginModule");
  assert.equal(e.flag, "required");
  assert.deepEqual(
    [...jaasPlainUsers(e)],
    [["admin", "admin-secret"], ["alice", 'a "q" b'], ["x", "y"]],
  );
  assert.throws(() => parseJaasConfig("x.Y required a=b"), /must end with ';'/);
  assert.throws(() => parseJaasConfig("x.Y mandatory;"), /control flag 'mandatory'/);
  assert.throws(() => parseJaasConfig("x.Y required; z.W required;"), /more than one/);
  assert.throws(() => parseJaasConfig('x.Y required a="b;'), /unterminated/);
});

// ---- OAUTHBEARER ----

const b64u = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const unsecured = (claims: Record<string, unknown>) => `${b64u({ alg: "none" })}.${b64u(claims)}.`;
const initial = (token: string, authzid = "") =>
  enc.encode(`n,${authzid ? `a=${authzid}` : ""},\x01auth=Bearer ${token}\x01\x01`);
const NOW = 1_700_000_000_000;

async function oauthRefused(server: OAuthBearerSaslServer, token: Uint8Array, json: string) {
  const challenge = await server.evaluate(token);
  assert.equal(challenge.kind, "challenge");
  assert.equal(dec.decode((challenge as { token: Uint8Array }).token), json);
  return expectFailure(await server.evaluate(new Uint8Array([1])), json);
}

Deno.test("OAUTHBEARER unsecured: a valid token logs in until its exp", async () => {
  const v = new UnsecuredJwsValidator({ now: () => NOW });
  const exp = NOW / 1000 + 3600;
  const server = new OAuthBearerSaslServer(v);
  const step = await server.evaluate(
    initial(unsecured({ sub: "alice", iat: NOW / 1000, exp, scope: "a b" }), "alice"),
  );
  assert.equal(step.kind, "complete");
  if (step.kind !== "complete") return;
  assert.equal(step.authorizationId, "alice");
  assert.equal(step.credentialExpiresAtMs, exp * 1000);
});

Deno.test("OAUTHBEARER unsecured: expired, no sub, signed, scope, authzid", async () => {
  const invalid = '{"status":"invalid_token"}';
  const v = (o = {}) =>
    new OAuthBearerSaslServer(new UnsecuredJwsValidator({ now: () => NOW, ...o }));
  const exp = NOW / 1000 + 60;
  assert.match(
    await oauthRefused(v(), initial(unsecured({ sub: "a", exp: NOW / 1000 - 1 })), invalid),
    /expired/,
  );
  assert.match(await oauthRefused(v(), initial(unsecured({ exp })), invalid), /'sub'/);
  assert.match(
    await oauthRefused(
      v(),
      initial(`${b64u({ alg: "HS256" })}.${b64u({ sub: "a", exp })}.`),
      invalid,
    ),
    /alg 'none'/,
  );
  assert.match(
    await oauthRefused(
      v(),
      initial(`${b64u({ alg: "none" })}.${b64u({ sub: "a", exp })}.c2ln`),
      invalid,
    ),
    /empty signature/,
  );
  assert.match(await oauthRefused(v(), initial(unsecured({ sub: "a" })), invalid), /'exp'/);
  assert.match(await oauthRefused(v(), initial("not-a-jwt"), invalid), /3 parts/);
  // Skew lets a just-expired token in.
  const skewed = await v({ allowableClockSkewMs: 5000 }).evaluate(
    initial(unsecured({ sub: "a", exp: NOW / 1000 - 1 })),
  );
  assert.equal(skewed.kind, "complete");
  await oauthRefused(
    v({ requiredScope: ["produce"] }),
    initial(unsecured({ sub: "a", exp, scope: "read" })),
    '{"status":"insufficient_scope", "scope":"produce"}',
  );
  expectFailure(
    await v().evaluate(initial(unsecured({ sub: "a", exp }), "b")),
    "Authentication failed: Client requested an authorization id (b) that is different from the token's principal name (a)",
  );
  // Not an initial response at all; and an error challenge the client did not acknowledge.
  expectFailure(
    await v().evaluate(enc.encode("n,,auth=x")),
    "Invalid OAUTHBEARER client first message",
  );
  const s = v();
  await s.evaluate(initial(unsecured({ exp })));
  assert.equal((await s.evaluate(enc.encode("again"))).kind, "failure");
});

Deno.test("OAUTHBEARER unsecured: Kafka's JAAS option names", async () => {
  const v = UnsecuredJwsValidator.fromJaasOptions(
    new Map([
      ["unsecuredValidatorPrincipalClaimName", "user"],
      ["unsecuredValidatorRequiredScope", "x"],
    ]),
  );
  const r = await v.validate(unsecured({ user: "u1", exp: Date.now() / 1000 + 60, scope: ["x"] }));
  assert.deepEqual(r, {
    ok: true,
    principal: "u1",
    expiresAtMs: r.ok ? r.expiresAtMs : 0,
    scope: ["x"],
  });
});

async function signedToken(
  alg: "RS256" | "ES256",
  claims: Record<string, unknown>,
  kid = "k1",
) {
  const params = alg === "RS256"
    ? {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    }
    : { name: "ECDSA", namedCurve: "P-256" };
  const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid, use: "sig", alg };
  const input = `${b64u({ alg, kid, typ: "JWT" })}.${b64u(claims)}`;
  const sig = await crypto.subtle.sign(
    alg === "RS256" ? "RSASSA-PKCS1-v1_5" : { name: "ECDSA", hash: "SHA-256" },
    pair.privateKey,
    enc.encode(input),
  );
  return { token: `${input}.${Buffer.from(sig).toString("base64url")}`, jwk };
}

Deno.test("OAUTHBEARER JWKS: RS256 and ES256 verify; bad signature, audience, issuer refused", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const exp = NOW / 1000 + 600;
    const claims = { sub: "svc", exp, iat: NOW / 1000 - 120, aud: ["kafka"], iss: "https://idp" };
    const rs = await signedToken("RS256", claims, "rs");
    const es = await signedToken("ES256", claims, "es");
    const other = await signedToken("RS256", claims, "rs"); // same kid, another key
    const file = `${dir}/jwks.json`;
    Deno.writeTextFileSync(file, JSON.stringify({ keys: [rs.jwk, es.jwk] }));
    const v = new JwksValidator({
      jwksUrl: new URL(`file://${file}`).href,
      expectedAudience: ["kafka"],
      expectedIssuer: "https://idp",
      now: () => NOW,
    });
    for (const t of [rs.token, es.token]) {
      const r = await v.validate(t);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.ok && r.principal, "svc");
    }
    const refused = async (t: string, why: RegExp) => {
      const r = await v.validate(t);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.equal(r.status, "invalid_token");
        assert.match(r.reason, why);
      }
    };
    await refused(other.token, /bad signature/);
    const [h, p, s] = rs.token.split(".");
    await refused(`${h}.${b64u({ ...claims, sub: "admin" })}.${s}`, /bad signature/);
    await refused(`${h}.${p}.`, /not signed/);
    await refused(unsecured(claims), /not signed/);
    await refused((await signedToken("RS256", { ...claims, aud: "x" }, "n")).token, /no JWKS key/);
    const wrongAud = await signedToken("ES256", { ...claims, aud: "other" }, "es2");
    const wrongIss = await signedToken("ES256", { ...claims, iss: "evil" }, "es3");
    const expired = await signedToken("ES256", { ...claims, exp: NOW / 1000 - 31 }, "es4");
    Deno.writeTextFileSync(
      file,
      JSON.stringify({ keys: [rs.jwk, es.jwk, wrongAud.jwk, wrongIss.jwk, expired.jwk] }),
    );
    // The file is reread when it changes.
    await refused(wrongAud.token, /audience/);
    await refused(wrongIss.token, /issuer/);
    await refused(expired.token, /expired/);
    // 30 s of default skew: 29 s past exp still passes.
    const recent = await signedToken("ES256", { ...claims, exp: NOW / 1000 - 29 }, "es5");
    Deno.writeTextFileSync(file, JSON.stringify({ keys: [recent.jwk] }));
    assert.equal((await v.validate(recent.token)).ok, true);
    assert.throws(() => new JwksValidator({ jwksUrl: "ftp://idp/jwks" }), /not a file:, https:/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SCRAM: librdkafka's client-final nonce (its nonce again before the combined one)", async () => {
  const cred = await credentialFromPassword(SCRAM_SHA_512, "pw", 4096);
  const server = new ScramSaslServer(SCRAM_SHA_512, sourceOf({ alice: cred }), () => "SRV");
  const client = new ScramClient(SCRAM_SHA_512, "alice", "pw", "CLI");
  const first = await server.evaluate(client.first());
  assert.equal(dec.decode((first as { token: Uint8Array }).token).slice(0, 10), "r=CLISRV,s");
  const final = await client.final((first as { token: Uint8Array }).token, { nonce: "CLICLISRV" });
  assert.equal((await server.evaluate(final)).kind, "complete");
  // Any other prefix is refused.
  const other = new ScramSaslServer(SCRAM_SHA_512, sourceOf({ alice: cred }), () => "SRV");
  const f2 = await other.evaluate(client.first());
  const bad = await client.final((f2 as { token: Uint8Array }).token, { nonce: "XCLISRV" });
  assert.equal((await other.evaluate(bad)).kind, "failure");
});

Deno.test("OAUTHBEARER JWKS over http: fetched on use, fetched again for a new key id", async () => {
  const claims = { sub: "svc", exp: NOW / 1000 + 600, iat: NOW / 1000 - 10 };
  const first = await signedToken("ES256", claims, "k1");
  const rotated = await signedToken("RS256", claims, "k2");
  let served = { keys: [first.jwk] };
  let fetches = 0;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    () => {
      fetches++;
      return Response.json(served);
    },
  );
  try {
    const v = new JwksValidator({
      jwksUrl: `http://127.0.0.1:${server.addr.port}/jwks.json`,
      retryBackoffMs: 0,
      now: () => NOW,
    });
    assert.equal(fetches, 0); // nothing before the first login
    assert.equal((await v.validate(first.token)).ok, true);
    assert.equal((await v.validate(first.token)).ok, true);
    assert.equal(fetches, 1); // cached until the refresh interval
    served = { keys: [rotated.jwk] };
    assert.equal((await v.validate(rotated.token)).ok, true); // unknown kid: fetched again
    assert.equal(fetches, 2);
    const r = await v.validate(first.token); // the old key is gone now
    assert.equal(r.ok, false);
  } finally {
    ac.abort();
    await server.finished;
  }
});
