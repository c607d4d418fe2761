/**
 * The SCRAM credential store (src/security/scram_credential_store.ts): durable across reopen,
 * one atomic write per alteration, seen by a second store on the same file (another worker),
 * and never holding the password.
 */
import assert from "node:assert/strict";
import {
  FileScramCredentialStore,
  MemoryScramCredentialStore,
  SCRAM_CREDENTIALS_FILE,
} from "../../src/security/scram_credential_store.ts";
import {
  credentialFromPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
} from "../../src/security/sasl/scram_formatter.ts";

Deno.test("file store: durable across reopen, no password, seen by another opener", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const store = FileScramCredentialStore.inDataDir(dir);
    const other = FileScramCredentialStore.inDataDir(dir); // another worker
    assert.equal(other.credential("alice", SCRAM_SHA_256), undefined);
    const c256 = await credentialFromPassword(SCRAM_SHA_256, "alice-password-1", 4096);
    const c512 = await credentialFromPassword(SCRAM_SHA_512, "alice-password-1", 8192);
    await store.alter([
      { op: "upsert", user: "alice", mechanism: SCRAM_SHA_256, credential: c256 },
      { op: "upsert", user: "alice", mechanism: SCRAM_SHA_512, credential: c512 },
      { op: "upsert", user: "bob", mechanism: SCRAM_SHA_256, credential: c256 },
    ]);
    const text = Deno.readTextFileSync(`${dir}/${SCRAM_CREDENTIALS_FILE}`);
    assert.ok(!text.includes("alice-password-1"));
    assert.ok(!text.includes(btoa("alice-password-1")));
    assert.deepEqual(other.credential("alice", SCRAM_SHA_512), c512);

    const reopened = FileScramCredentialStore.inDataDir(dir);
    assert.deepEqual(reopened.credential("alice", SCRAM_SHA_256), c256);
    assert.deepEqual(
      [...reopened.users()].map(([u, l]) => [u, l.map((x) => [x.mechanism.name, x.iterations])]),
      [["alice", [["SCRAM-SHA-256", 4096], ["SCRAM-SHA-512", 8192]]], [
        "bob",
        [["SCRAM-SHA-256", 4096]],
      ]],
    );
    await reopened.alter([
      { op: "delete", user: "bob", mechanism: SCRAM_SHA_256 },
      { op: "delete", user: "alice", mechanism: SCRAM_SHA_512 },
    ]);
    const again = FileScramCredentialStore.inDataDir(dir);
    assert.deepEqual([...again.users().keys()], ["alice"]);
    assert.equal(again.credential("alice", SCRAM_SHA_512), undefined);
    assert.equal(store.credential("bob", SCRAM_SHA_256), undefined);
    // No temp file is left behind.
    assert.deepEqual([...Deno.readDirSync(`${dir}/meta`)].map((e) => e.name), [
      "scram-credentials.json",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("file store: a damaged entry is skipped, the others load", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const c = await credentialFromPassword(SCRAM_SHA_256, "pw", 4096);
    await FileScramCredentialStore.inDataDir(dir).alter([
      { op: "upsert", user: "alice", mechanism: SCRAM_SHA_256, credential: c },
    ]);
    const path = `${dir}/${SCRAM_CREDENTIALS_FILE}`;
    const doc = JSON.parse(Deno.readTextFileSync(path));
    doc.users.bob = {
      "SCRAM-SHA-256": { salt: "!!", storedKey: "", serverKey: "", iterations: 1 },
    };
    Deno.writeTextFileSync(path, JSON.stringify(doc));
    const store = FileScramCredentialStore.inDataDir(dir);
    assert.deepEqual(store.credential("alice", SCRAM_SHA_256), c);
    assert.equal(store.credential("bob", SCRAM_SHA_256), undefined);
    Deno.writeTextFileSync(path, "{not json");
    assert.equal(FileScramCredentialStore.inDataDir(dir).users().size, 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("memory store: the same contract", async () => {
  const s = new MemoryScramCredentialStore();
  const c = await credentialFromPassword(SCRAM_SHA_512, "pw", 4096);
  await s.alter([{ op: "upsert", user: "u", mechanism: SCRAM_SHA_512, credential: c }]);
  assert.deepEqual(s.credential("u", SCRAM_SHA_512), c);
  assert.equal(s.credential("u", SCRAM_SHA_256), undefined);
  await s.alter([{ op: "delete", user: "u", mechanism: SCRAM_SHA_512 }]);
  assert.equal(s.users().size, 0);
});
