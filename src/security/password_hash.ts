/**
 * Hashed passwords for the PLAIN users file: `pbkdf2-sha512$<iterations>$<salt>$<hash>`
 * (salt and hash in base64, the hash 64 bytes of PBKDF2-HMAC-SHA-512). PBKDF2 because WebCrypto
 * has it; the iteration count travels with each hash so it can be raised for new ones.
 */
import { base64, unbase64 } from "./sasl/scram_formatter.ts";
import { constantTimeEqual, utf8 } from "./sasl/sasl_server.ts";

export const PASSWORD_HASH_SCHEME = "pbkdf2-sha512";
/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-512. */
export const DEFAULT_PASSWORD_ITERATIONS = 210000;

async function derive(password: string, salt: Uint8Array, iterations: number) {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-512", salt: salt as BufferSource, iterations },
    key,
    512,
  );
  return new Uint8Array(bits);
}

export async function hashPassword(
  password: string,
  iterations = DEFAULT_PASSWORD_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const h = await derive(password, salt, iterations);
  return `${PASSWORD_HASH_SCHEME}$${iterations}$${base64(salt)}$${base64(h)}`;
}

/** Parses a stored hash; null when it is not in the format above. */
export function parsePasswordHash(
  stored: string,
): { iterations: number; salt: Uint8Array; hash: Uint8Array } | null {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== PASSWORD_HASH_SCHEME) return null;
  if (!/^[1-9][0-9]{0,8}$/.test(parts[1])) return null;
  const salt = unbase64(parts[2]);
  const hash = unbase64(parts[3]);
  if (!salt || !hash || salt.length === 0 || hash.length !== 64) return null;
  return { iterations: Number(parts[1]), salt, hash };
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const p = parsePasswordHash(stored);
  if (!p) return false;
  return constantTimeEqual(await derive(password, p.salt, p.iterations), p.hash);
}
