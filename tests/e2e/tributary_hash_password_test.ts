/**
 * `tributary hash-password`: a password on stdin becomes a users-file hash the broker's PLAIN
 * login accepts; usage mistakes exit 2, a missing password 1.
 */
import assert from "node:assert/strict";
import { parseUsersFile } from "../../src/security/plain_users.ts";
import { verifyPassword } from "../../src/security/password_hash.ts";
import { tool } from "../support/tributary_tool.ts";

Deno.test("tributary hash-password: a users-file line the PLAIN check accepts", async () => {
  const r = await tool(["hash-password", "--user", "alice", "--iterations", "5000"], "s3cr3t pw\n");
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^alice = pbkdf2-sha512\$5000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
  assert.ok(!r.out.includes("s3cr3t"));
  const users = parseUsersFile(r.out);
  assert.equal(await verifyPassword(users.get("alice")!, "s3cr3t pw"), true);
  assert.equal(await verifyPassword(users.get("alice")!, "s3cr3t"), false);
  const bare = await tool(["hash-password"], "x\n");
  assert.equal(bare.code, 0, bare.err);
  assert.match(bare.out, /^pbkdf2-sha512\$210000\$/);
});

Deno.test("tributary hash-password: no password, bad iterations, --help", async () => {
  const empty = await tool(["hash-password"], "");
  assert.equal(empty.code, 1);
  assert.match(empty.err, /no password on stdin/);
  const zero = await tool(["hash-password", "--iterations", "0"], "x\n");
  assert.equal(zero.code, 2);
  assert.match(zero.err, /--iterations must be at least 1/);
  const help = await tool(["hash-password", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: tributary hash-password/);
});
