/**
 * SCRAM's key derivation (RFC 5802 section 3), as Kafka's ScramFormatter: the salted password
 * (Hi, which is PBKDF2), the client and server keys, the stored key, signatures and proofs.
 * Everything goes through WebCrypto, so no hash is implemented here.
 */
import { Buffer } from "node:buffer";
import { utf8 } from "./sasl_server.ts";

/** Kafka's ScramMechanism: the SASL name, the hash, the admin API's type id, the bounds. */
export interface ScramMechanism {
  readonly name: "SCRAM-SHA-256" | "SCRAM-SHA-512";
  readonly hash: "SHA-256" | "SHA-512";
  /** `mechanism` in AlterUserScramCredentials / DescribeUserScramCredentials. */
  readonly type: 1 | 2;
  readonly keyBytes: number;
  readonly minIterations: number;
}

export const SCRAM_SHA_256: ScramMechanism = {
  name: "SCRAM-SHA-256",
  hash: "SHA-256",
  type: 1,
  keyBytes: 32,
  minIterations: 4096,
};
export const SCRAM_SHA_512: ScramMechanism = {
  name: "SCRAM-SHA-512",
  hash: "SHA-512",
  type: 2,
  keyBytes: 64,
  minIterations: 4096,
};
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = [SCRAM_SHA_256, SCRAM_SHA_512];

/** Kafka's ScramControlManager.MAX_ITERATIONS: more is refused as UNACCEPTABLE_CREDENTIAL. */
export const SCRAM_MAX_ITERATIONS = 16384;

export function scramMechanismByName(name: string): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.name === name);
}

export function scramMechanismByType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => m.type === type);
}

/** What the broker keeps of a SCRAM password: never the password, nor the salted one. */
export interface ScramCredential {
  readonly salt: Uint8Array;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
  readonly iterations: number;
}

const bytes = (b: ArrayBuffer) => new Uint8Array(b);

/** Hi(password, salt, i): PBKDF2 with the mechanism's HMAC. */
export async function saltedPassword(
  m: ScramMechanism,
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  return bytes(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: m.hash, salt: salt as BufferSource, iterations },
      key,
      m.keyBytes * 8,
    ),
  );
}

export async function hmac(
  m: ScramMechanism,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as BufferSource,
    { name: "HMAC", hash: m.hash },
    false,
    ["sign"],
  );
  return bytes(await crypto.subtle.sign("HMAC", k, data as BufferSource));
}

export async function hash(m: ScramMechanism, data: Uint8Array): Promise<Uint8Array> {
  return bytes(await crypto.subtle.digest(m.hash, data as BufferSource));
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new RangeError("xor of unequal lengths");
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

export function clientKey(m: ScramMechanism, salted: Uint8Array): Promise<Uint8Array> {
  return hmac(m, salted, utf8.encode("Client Key"));
}

export function serverKey(m: ScramMechanism, salted: Uint8Array): Promise<Uint8Array> {
  return hmac(m, salted, utf8.encode("Server Key"));
}

/** The stored form of a salted password (what AlterUserScramCredentials sends). */
export async function credentialFromSalted(
  m: ScramMechanism,
  salt: Uint8Array,
  salted: Uint8Array,
  iterations: number,
): Promise<ScramCredential> {
  return {
    salt,
    storedKey: await hash(m, await clientKey(m, salted)),
    serverKey: await serverKey(m, salted),
    iterations,
  };
}

/** The stored form of a password, with a fresh random salt unless one is given. */
export async function credentialFromPassword(
  m: ScramMechanism,
  password: string,
  iterations: number,
  salt: Uint8Array = crypto.getRandomValues(new Uint8Array(m.keyBytes)),
): Promise<ScramCredential> {
  return credentialFromSalted(
    m,
    salt,
    await saltedPassword(m, password, salt, iterations),
    iterations,
  );
}

export function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

/** Strict base64 (RFC 4648 alphabet with padding); null when `s` is not. */
export function unbase64(s: string): Uint8Array | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return null;
  return new Uint8Array(Buffer.from(s, "base64"));
}

/** A SCRAM saslname decoded: `=2C` is `,` and `=3D` is `=` (RFC 5802 section 5.1). */
export function usernameFromSaslName(saslName: string): string | null {
  if (/=(?!2C|3D)/.test(saslName)) return null;
  return saslName.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

export function saslNameFromUsername(user: string): string {
  return user.replace(/=/g, "=3D").replace(/,/g, "=2C");
}
