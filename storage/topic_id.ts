/**
 * Kafka's Uuid as topic ids and cluster ids are written: 16 random bytes in base64url
 * without padding.
 */

/** Kafka's Uuid text form: base64url, no padding. */
export function uuidToString(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Parses Kafka's Uuid text form back to 16 bytes. */
export function uuidFromString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) throw new Error(`not a Kafka uuid: ${s}`);
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/") + "==");
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * A random 16-byte id, as Kafka's Uuid.randomUuid makes them: never the reserved all-zero
 * or one ids, and never starting with '-' (it would read as a command-line flag).
 */
export function randomUuid(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const s = uuidToString(bytes);
    const reserved = bytes.every((b, i) => b === (i === 15 ? 1 : 0)) || bytes.every((b) => !b);
    if (!reserved && !s.startsWith("-")) return s;
  }
}
