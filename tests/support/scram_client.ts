/**
 * The client side of SCRAM (RFC 5802), for tests that drive the broker's SCRAM server without
 * a Kafka client: client-first, then client-final from the server-first, then the server
 * signature check.
 */
import {
  base64,
  clientKey,
  hash,
  hmac,
  saltedPassword,
  type ScramMechanism,
  serverKey,
  unbase64,
  xor,
} from "../../src/security/sasl/scram_formatter.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ScramClient {
  private clientFirstBare: string;
  private authMessage = "";
  private salted: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly m: ScramMechanism,
    user: string,
    private readonly password: string,
    readonly nonce = base64(crypto.getRandomValues(new Uint8Array(18))),
    private readonly gs2 = "n,,",
  ) {
    this.clientFirstBare = `n=${user.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${nonce}`;
  }

  first(extensions = ""): Uint8Array {
    return enc.encode(`${this.gs2}${this.clientFirstBare}${extensions}`);
  }

  /** client-final for a server-first; `tamper` changes the proof (a wrong password). */
  async final(serverFirst: Uint8Array, opts: { nonce?: string } = {}): Promise<Uint8Array> {
    const text = dec.decode(serverFirst);
    const f = /^r=([^,]+),s=([^,]+),i=([0-9]+)/.exec(text);
    if (!f) throw new Error(`bad server-first: ${text}`);
    const [, nonce, salt, iterations] = f;
    this.salted = await saltedPassword(this.m, this.password, unbase64(salt)!, Number(iterations));
    const withoutProof = `c=${base64(enc.encode(this.gs2))},r=${opts.nonce ?? nonce}`;
    this.authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const ck = await clientKey(this.m, this.salted);
    const sig = await hmac(this.m, await hash(this.m, ck), enc.encode(this.authMessage));
    return enc.encode(`${withoutProof},p=${base64(xor(ck, sig))}`);
  }

  /** Whether the server-final carries the signature only the real server can make. */
  async verifyServerFinal(serverFinal: Uint8Array): Promise<boolean> {
    const sk = await serverKey(this.m, this.salted);
    const expected = base64(await hmac(this.m, sk, enc.encode(this.authMessage)));
    return dec.decode(serverFinal) === `v=${expected}`;
  }
}
