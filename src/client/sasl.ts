/**
 * The client side of SASL for this client (SASL_PLAINTEXT): SaslHandshake v1, then
 * SaslAuthenticate with PLAIN (RFC 4616) or SCRAM-SHA-256/512 (RFC 5802/7677, the server's
 * signature checked, so a broker that does not know the password is not believed). WebCrypto
 * does the hashing; nothing here depends on the broker's code.
 */
import { Buffer } from "node:buffer";
import { errorName, KafkaError } from "../../protocol/errors.ts";
import {
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../../protocol/messages/mod.ts";
import type { Encodable, MessageSchema } from "../../protocol/schema.ts";
import { ClientError } from "./errors.ts";

export interface SaslCredentials {
  mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
  username: string;
  password: string;
}

/** What authentication needs of a connection: one request at a time. */
export interface SaslTransport {
  send<Req, Resp>(
    req: MessageSchema<Req>,
    resp: MessageSchema<Resp>,
    version: number,
    body: Encodable<Req>,
    extraTimeoutMs?: number,
  ): Promise<Resp>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

export async function saslLogin(c: SaslTransport, creds: SaslCredentials): Promise<void> {
  const hs = await c.send(SaslHandshakeRequest, SaslHandshakeResponse, 1, {
    mechanism: creds.mechanism,
  });
  if (hs.errorCode !== 0) {
    throw new KafkaError(
      hs.errorCode,
      `${errorName(hs.errorCode)}: the broker offers ${hs.mechanisms.join(", ") || "none"}`,
    );
  }
  const step = async (authBytes: Uint8Array) => {
    const r = await c.send(SaslAuthenticateRequest, SaslAuthenticateResponse, 2, { authBytes });
    if (r.errorCode !== 0) {
      throw new KafkaError(r.errorCode, `${errorName(r.errorCode)}: ${r.errorMessage ?? ""}`);
    }
    return r.authBytes;
  };
  if (creds.mechanism === "PLAIN") {
    await step(enc.encode(`\0${creds.username}\0${creds.password}`));
    return;
  }
  const hash = creds.mechanism === "SCRAM-SHA-256" ? "SHA-256" : "SHA-512";
  const bits = hash === "SHA-256" ? 256 : 512;
  const hmac = async (key: Uint8Array, data: Uint8Array) =>
    new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash }, false, [
          "sign",
        ]),
        data as BufferSource,
      ),
    );
  const nonce = b64(crypto.getRandomValues(new Uint8Array(18)));
  const user = creds.username.replace(/=/g, "=3D").replace(/,/g, "=2C");
  const firstBare = `n=${user},r=${nonce}`;
  const serverFirst = dec.decode(await step(enc.encode(`n,,${firstBare}`)));
  const m = /^r=([^,]+),s=([^,]+),i=([0-9]+)/.exec(serverFirst);
  if (!m || !m[1].startsWith(nonce)) {
    throw new ClientError(`unexpected SCRAM server-first message from the broker`);
  }
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash, salt: Buffer.from(m[2], "base64"), iterations: Number(m[3]) },
      await crypto.subtle.importKey("raw", enc.encode(creds.password), "PBKDF2", false, [
        "deriveBits",
      ]),
      bits,
    ),
  );
  const withoutProof = `c=biws,r=${m[1]}`;
  const authMessage = enc.encode(`${firstBare},${serverFirst},${withoutProof}`);
  const clientKey = await hmac(salted, enc.encode("Client Key"));
  const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
  const signature = await hmac(storedKey, authMessage);
  const proof = clientKey.map((x, i) => x ^ signature[i]);
  const serverFinal = dec.decode(await step(enc.encode(`${withoutProof},p=${b64(proof)}`)));
  const expected = b64(await hmac(await hmac(salted, enc.encode("Server Key")), authMessage));
  if (serverFinal !== `v=${expected}`) {
    throw new ClientError("the broker's SCRAM signature is wrong: it does not know the password");
  }
}
