/**
 * TLS over an accepted TCP connection, server side, through node:tls: Deno.listenTls (2.9) can
 * neither ask for nor verify client certificates nor change its certificate while listening,
 * and node:tls's TLSSocket can (requestCert, ca, getPeerCertificate; a new secure context per
 * connection). The TCP side stays Deno's (SO_REUSEPORT across workers, the bytes read before the
 * handshake to tell a plaintext client), bridged to the TLSSocket by a Duplex, and the
 * decrypted side is offered as the read/write/close the connection code uses on TCP.
 */
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";

/** What a connection reads and writes: a TCP connection, or TLS over one. */
export interface ByteStream {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

const READ_CHUNK = 64 * 1024;

/** The TCP connection as a Duplex, `first` (bytes already read from it) coming out first. */
function duplexOf(conn: Deno.TcpConn, first: Uint8Array): Duplex {
  let pending: Uint8Array | null = first.length > 0 ? first : null;
  return new Duplex({
    read() {
      if (pending) {
        const p = pending;
        pending = null;
        // Not before the TLSSocket has started: node:tls in Deno (2.9) fails with a TypeError
        // thrown outside any handler when a record it cannot parse ends the handshake early.
        setTimeout(() => this.push(p), 0);
        return;
      }
      const buf = new Uint8Array(READ_CHUNK);
      conn.read(buf).then(
        (n) => this.push(n === null ? null : buf.subarray(0, n)),
        (e) => this.destroy(e),
      );
    },
    write(chunk: Uint8Array, _enc, done) {
      (async () => {
        let off = 0;
        while (off < chunk.length) off += await conn.write(chunk.subarray(off));
      })().then(() => done(), (e) => done(e));
    },
    final(done) {
      try {
        conn.closeWrite();
      } catch {
        // already closed
      }
      done();
    },
    destroy(err, done) {
      try {
        conn.close();
      } catch {
        // already closed
      }
      done(err);
    },
  });
}

export interface TlsOptions {
  secureContext: SecureContext;
  /** Ask for a client certificate. */
  requestCert: boolean;
  /** Refuse the handshake without a valid client certificate. */
  requireCert: boolean;
}

/** A finished server handshake: the decrypted stream and the client's certificate, if any. */
export interface TlsSession {
  stream: ByteStream;
  /** The client certificate (DER), verified against the truststore; null if none was sent. */
  peerCertificate: Uint8Array | null;
  /** The negotiated cipher suite's IANA name and the protocol version (`TLSv1.3`). */
  cipher: string | undefined;
  protocol: string | null;
}

/**
 * Runs the server handshake on `conn` (whose first bytes, `first`, are already read). Rejects
 * with the handshake's error; a client certificate that does not verify is refused even when
 * only requested, as Kafka's SSLEngine (wantClientAuth) refuses it.
 */
export function serverHandshake(
  conn: Deno.TcpConn,
  first: Uint8Array,
  o: TlsOptions,
): Promise<TlsSession> {
  const socket = new TLSSocket(duplexOf(conn, first) as never, {
    isServer: true,
    secureContext: o.secureContext,
    requestCert: o.requestCert,
    rejectUnauthorized: o.requireCert,
  });
  return new Promise((resolve, reject) => {
    const failed = (e: Error) => {
      socket.destroy();
      reject(e);
    };
    const closed = () => failed(new HandshakeClosed());
    socket.once("error", failed);
    socket.once("close", closed);
    socket.once("end", closed);
    socket.once("secure", () => {
      socket.removeListener("error", failed);
      socket.removeListener("close", closed);
      socket.removeListener("end", closed);
      const cert = o.requestCert ? socket.getPeerCertificate() : null;
      const der = cert && cert.raw ? new Uint8Array(cert.raw) : null;
      const verifyError = (socket as unknown as { ssl?: { verifyError?(): unknown } }).ssl
        ?.verifyError?.();
      if (der && verifyError) {
        failed(new Error(`client certificate not accepted: ${verifyError}`));
        return;
      }
      resolve({
        stream: new TlsByteStream(socket),
        peerCertificate: der,
        cipher: socket.getCipher()?.standardName,
        protocol: socket.getProtocol(),
      });
    });
  });
}

/** The decrypted side of a TLSSocket as reads into a caller's buffer and awaited writes. */
class TlsByteStream implements ByteStream {
  private readonly queue: Uint8Array[] = [];
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly socket: TLSSocket) {
    socket.on("data", (chunk: Uint8Array) => {
      this.queue.push(chunk);
      // Bytes wait here only until the connection reads them: stop reading the socket meanwhile.
      socket.pause();
      this.notify();
    });
    socket.on("end", () => {
      this.ended = true;
      this.notify();
    });
    socket.on("close", () => {
      this.ended = true;
      this.notify();
    });
    socket.on("error", (e: Error) => {
      this.failure ??= e;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.queue.length === 0) {
      if (this.failure) throw new Deno.errors.ConnectionReset(this.failure.message);
      if (this.ended) return null;
      this.socket.resume();
      await new Promise<void>((r) => this.wake = r);
    }
    const head = this.queue[0];
    const n = Math.min(head.length, p.length);
    p.set(head.subarray(0, n));
    if (n === head.length) this.queue.shift();
    else this.queue[0] = head.subarray(n);
    return n;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.failure) return Promise.reject(new Deno.errors.BrokenPipe(this.failure.message));
    if (this.socket.destroyed) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    // Resolves once the bytes are encrypted and handed on: the caller may reuse `p` then.
    return new Promise((resolve, reject) => {
      this.socket.write(p, (e?: Error | null) => {
        if (e) reject(new Deno.errors.BrokenPipe(e.message));
        else resolve(p.length);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The peer hung up before the TLS handshake finished (a client giving up, a probe). */
export class HandshakeClosed extends Error {
  constructor() {
    super("closed during the TLS handshake");
  }
}
