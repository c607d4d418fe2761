/**
 * The default bind address. `0.0.0.0` is IPv4 only, so a client that resolves `localhost` to
 * `::1` first (many do: Node 17+, Java with IPv6 preferred) would be refused. `::` on Linux
 * (IPV6_V6ONLY off, Deno's default) accepts IPv4 and IPv6 alike, so it is the default where
 * the host has IPv6; without it (disabled kernel, container) `0.0.0.0` is.
 */
let cached: string | undefined;

export function defaultBindHost(): string {
  if (cached !== undefined) return cached;
  try {
    Deno.listen({ hostname: "::", port: 0 }).close();
    cached = "::";
  } catch {
    cached = "0.0.0.0";
  }
  return cached;
}

/** Whether `host` means every local address (IPv4 `0.0.0.0` or dual-stack `::`). */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** `host` as a person reads it in a message ("::" alone says little). */
export function describeBindHost(host: string): string {
  return host === "::" ? ":: (every IPv4 and IPv6 address)" : host;
}
