/**
 * A loopback TCP proxy a test puts between a client and a server to break the network on
 * purpose: `cut()` drops every open connection (the server stays up, the client sees its
 * streams end), `block()` also refuses new ones until `unblock()`.
 */

export interface TcpProxy {
  readonly port: number;
  /** Closes every connection currently proxied. */
  cut(): void;
  /** Cuts, and refuses connections until unblock(). */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

export function startTcpProxy(targetPort: number): TcpProxy {
  const conns = new Set<Deno.Conn>();
  let listener: Deno.Listener | undefined;
  let port = 0;
  let accepting: Promise<void> = Promise.resolve();

  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    try {
      await from.readable.pipeTo(to.writable);
    } catch {
      // either side closed
    }
    for (const c of [from, to]) {
      try {
        conns.delete(c);
        c.close();
      } catch {
        // already closed
      }
    }
  };

  const listen = () => {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    port = (l.addr as Deno.NetAddr).port;
    listener = l;
    accepting = (async () => {
      for await (const inbound of l) {
        let outbound: Deno.Conn;
        try {
          outbound = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
        } catch {
          inbound.close();
          continue;
        }
        conns.add(inbound);
        conns.add(outbound);
        pipe(inbound, outbound);
        pipe(outbound, inbound);
      }
    })().catch(() => {});
  };

  const cut = () => {
    for (const c of [...conns]) {
      conns.delete(c);
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  };

  listen();
  return {
    get port() {
      return port;
    },
    cut,
    block() {
      listener?.close();
      listener = undefined;
      cut();
    },
    unblock() {
      if (!listener) listen();
    },
    async close() {
      listener?.close();
      listener = undefined;
      cut();
      await accepting;
    },
  };
}
