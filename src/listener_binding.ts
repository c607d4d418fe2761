/**
 * Binds the broker's listeners' sockets, in order: the first is the one `--host`/`--port`
 * name, so a port in use there is reported as is; the others say which listener failed. With
 * Deno workers every worker binds the same ports (SO_REUSEPORT) and the kernel spreads the
 * connections.
 */
import { defaultBindHost } from "./bind_address.ts";
import type { ListenerSpec } from "./security/listeners.ts";

/** All of `specs` bound, or none: a failure closes what was bound before it. */
export function bindListeners(specs: ListenerSpec[], reusePort: boolean): Deno.TcpListener[] {
  const bound: Deno.TcpListener[] = [];
  try {
    for (const [i, spec] of specs.entries()) {
      const hostname = spec.host === "" ? defaultBindHost() : spec.host;
      try {
        bound.push(Deno.listen({
          hostname,
          port: spec.port,
          ...(reusePort ? { reusePort: true } : {}),
        } as Deno.TcpListenOptions));
      } catch (e) {
        if (i > 0 && e instanceof Deno.errors.AddrInUse) {
          throw new Deno.errors.AddrInUse(
            `listener ${spec.name}: port ${spec.port} on ${hostname}`,
          );
        }
        throw e;
      }
    }
    return bound;
  } catch (e) {
    for (const l of bound) l.close();
    throw e;
  }
}
