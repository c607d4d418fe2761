/**
 * `tributary hash-password [--user NAME] [--iterations N]`: reads a password from stdin (its
 * first line, so it never appears in the process list or shell history) and prints the
 * `pbkdf2-sha512$...` hash the broker's PLAIN users file (`sasl.plain.users.file`) takes,
 * or with --user the whole `NAME = hash` line. Needs no broker.
 */
import { DEFAULT_PASSWORD_ITERATIONS, hashPassword } from "../security/password_hash.ts";
import { flag, InputError, int, out, parse, str, UsageError } from "./args.ts";

export const HASH_PASSWORD_HELP = `Usage: tributary hash-password [options] < password

Reads a password from the first line of stdin and prints its hash for sasl.plain.users.file.

  --user NAME          print a whole users-file line: NAME = hash
  --iterations N       PBKDF2-HMAC-SHA-512 iterations (default ${DEFAULT_PASSWORD_ITERATIONS})
Example:
  printf '%s\\n' 'alice-secret' | tributary hash-password --user alice >> users.properties
`;

export async function hashPasswordCommand(args: string[]): Promise<number> {
  const p = parse(
    args,
    { user: { type: "string" }, iterations: { type: "string" } },
    "hash-password",
  );
  if (flag(p, "help")) {
    await out(HASH_PASSWORD_HELP);
    return 0;
  }
  const iterations = int(p, "iterations", "hash-password", DEFAULT_PASSWORD_ITERATIONS)!;
  if (iterations < 1) throw new UsageError("--iterations must be at least 1", "hash-password");
  const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());
  const password = text.split(/\r?\n/)[0];
  if (!password) throw new InputError("no password on stdin");
  const hash = await hashPassword(password, iterations);
  const user = str(p, "user");
  await out(user ? `${user} = ${hash}\n` : `${hash}\n`);
  return 0;
}
