/**
 * JSON Web Tokens as OAUTHBEARER carries them (RFC 7519, compact JWS, RFC 7515): decoding, and
 * signature checks against the keys of a JWKS (RFC 7517) through WebCrypto. RS256/384/512,
 * PS256/384/512 and ES256/384 are checked; `alg: none` only by the unsecured validator, which
 * never calls `verifySignature`.
 */
import { Buffer } from "node:buffer";
import { utf8, utf8Strict } from "./sasl_server.ts";

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: Uint8Array;
  signature: Uint8Array;
  /** Whether the third part was empty (an unsecured JWS). */
  unsigned: boolean;
}

/** Thrown for a token that is not a well-formed JWS; the message is for the broker's log. */
export class JwtError extends Error {}

function base64UrlDecode(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new JwtError("not base64url");
  return new Uint8Array(Buffer.from(s, "base64url"));
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(utf8Strict.decode(base64UrlDecode(part)));
  } catch {
    throw new JwtError(`the ${what} is not base64url JSON`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new JwtError(`the ${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError(`a JWS has 3 parts, this has ${parts.length}`);
  return {
    header: jsonObject(parts[0], "header"),
    claims: jsonObject(parts[1], "payload"),
    signingInput: utf8.encode(`${parts[0]}.${parts[1]}`),
    signature: base64UrlDecode(parts[2]),
    unsigned: parts[2] === "",
  };
}

type Alg = { importAs: RsaHashedImportParams | EcKeyImportParams; verify: AlgorithmIdentifier };

const ALGS: Record<string, Alg> = {
  RS256: rsa("RSASSA-PKCS1-v1_5", "SHA-256"),
  RS384: rsa("RSASSA-PKCS1-v1_5", "SHA-384"),
  RS512: rsa("RSASSA-PKCS1-v1_5", "SHA-512"),
  PS256: { ...rsa("RSA-PSS", "SHA-256"), verify: { name: "RSA-PSS", saltLength: 32 } as never },
  PS384: { ...rsa("RSA-PSS", "SHA-384"), verify: { name: "RSA-PSS", saltLength: 48 } as never },
  PS512: { ...rsa("RSA-PSS", "SHA-512"), verify: { name: "RSA-PSS", saltLength: 64 } as never },
  ES256: ec("P-256", "SHA-256"),
  ES384: ec("P-384", "SHA-384"),
};

function rsa(name: string, hash: string): Alg {
  return { importAs: { name, hash }, verify: { name } };
}

function ec(namedCurve: string, hash: string): Alg {
  return { importAs: { name: "ECDSA", namedCurve }, verify: { name: "ECDSA", hash } as never };
}

export const SUPPORTED_JWS_ALGS = Object.keys(ALGS);

/** A JWKS document's keys (RFC 7517 section 5). */
export type Jwks = { keys: (JsonWebKey & { kid?: string; alg?: string; use?: string })[] };

/** Parses a JWKS document; throws Error when it is not one. */
export function parseJwks(text: string): Jwks {
  const v = JSON.parse(text);
  if (!v || !Array.isArray(v.keys)) throw new Error("a JWKS is a JSON object with a 'keys' array");
  return v as Jwks;
}

/**
 * Checks the token's signature with the JWKS key its header's `kid` names (or, without a `kid`,
 * the only key of a matching type); false when the signature does not verify. Throws JwtError
 * for an unsupported algorithm or no usable key.
 */
export async function verifySignature(jwt: DecodedJwt, jwks: Jwks): Promise<boolean> {
  const alg = String(jwt.header.alg);
  const a = ALGS[alg];
  if (!a) throw new JwtError(`the JWS algorithm '${alg}' is not supported`);
  const kty = alg.startsWith("ES") ? "EC" : "RSA";
  const kid = jwt.header.kid;
  const candidates = jwks.keys.filter((k) =>
    k.kty === kty && (k.use === undefined || k.use === "sig") &&
    (k.alg === undefined || k.alg === alg) && (kid === undefined || k.kid === kid)
  );
  if (candidates.length === 0) throw new JwtError(`no JWKS key for kid '${kid}' and alg ${alg}`);
  if (kid === undefined && candidates.length > 1) {
    throw new JwtError("the token names no kid and the JWKS has several keys for its algorithm");
  }
  const jwk = { ...candidates[0] } as JsonWebKey & { kid?: string; use?: string };
  delete jwk.kid;
  delete jwk.use;
  delete jwk.alg;
  delete jwk.key_ops;
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("jwk", jwk, a.importAs, false, ["verify"]);
  } catch (e) {
    throw new JwtError(`the JWKS key cannot be used: ${(e as Error).message}`);
  }
  return await crypto.subtle.verify(
    a.verify,
    key,
    jwt.signature as BufferSource,
    jwt.signingInput as BufferSource,
  );
}
