/**
 * The script's arguments without the leading "--" that `deno task NAME -- --flag` forwards
 * (Deno passes it on to the script).
 */
export function benchArgs(): string[] {
  return Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
}
