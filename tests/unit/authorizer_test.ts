/**
 * The ACL authorizer's semantics (Kafka's StandardAuthorizer) as a table, the ACL store's
 * durability, and the validation of ACLs to create and filters.
 */
import assert from "node:assert/strict";
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation as Op,
  AclPermissionType as Perm,
  PatternType,
  ResourceType as RT,
} from "../../src/security/acl_binding.ts";
import { FileAclStore, MemoryAclStore } from "../../src/security/acl_store.ts";
import { parseSuperUsers, StandardAuthorizer } from "../../src/security/authorizer.ts";
import { plaintextSession } from "../../src/security/session.ts";

function who(principal: string, clientHost = "127.0.0.1") {
  return { session: { ...plaintextSession(), principal }, clientHost };
}

function acl(
  resourceType: number,
  resourceName: string,
  principal: string,
  operation: number,
  permissionType: number = Perm.ALLOW,
  patternType: number = PatternType.LITERAL,
  host = "*",
): AclBinding {
  return { resourceType, resourceName, patternType, principal, host, operation, permissionType };
}

async function authorizerWith(acls: AclBinding[], opts = {}) {
  const a = await StandardAuthorizer.open(new MemoryAclStore(), opts);
  assert.deepEqual(await a.createAcls(acls), acls.map(() => null));
  return a;
}

const ALICE = "User:alice";
const BOB = "User:bob";

Deno.test("authorizer: literal, wildcard and prefixed patterns, principals and hosts", async () => {
  const a = await authorizerWith([
    acl(RT.TOPIC, "orders", ALICE, Op.READ),
    acl(RT.TOPIC, "pay-", ALICE, Op.WRITE, Perm.ALLOW, PatternType.PREFIXED),
    acl(RT.TOPIC, "*", BOB, Op.DESCRIBE),
    acl(RT.GROUP, "g", "User:*", Op.READ),
    acl(RT.TOPIC, "local", ALICE, Op.READ, Perm.ALLOW, PatternType.LITERAL, "10.0.0.1"),
  ]);
  const cases: [string, string, number, number, string, boolean][] = [
    [ALICE, "127.0.0.1", Op.READ, RT.TOPIC, "orders", true],
    [ALICE, "127.0.0.1", Op.WRITE, RT.TOPIC, "orders", false],
    [BOB, "127.0.0.1", Op.READ, RT.TOPIC, "orders", false],
    [ALICE, "127.0.0.1", Op.WRITE, RT.TOPIC, "pay-eu", true],
    [ALICE, "127.0.0.1", Op.WRITE, RT.TOPIC, "pay-", true],
    [ALICE, "127.0.0.1", Op.WRITE, RT.TOPIC, "pay", false],
    [ALICE, "127.0.0.1", Op.READ, RT.TOPIC, "pay-eu", false],
    [BOB, "127.0.0.1", Op.DESCRIBE, RT.TOPIC, "anything", true],
    [BOB, "127.0.0.1", Op.DESCRIBE, RT.GROUP, "anything", false],
    ["User:carol", "127.0.0.1", Op.READ, RT.GROUP, "g", true],
    ["User:carol", "127.0.0.1", Op.READ, RT.GROUP, "g2", false],
    [ALICE, "10.0.0.1", Op.READ, RT.TOPIC, "local", true],
    [ALICE, "10.0.0.2", Op.READ, RT.TOPIC, "local", false],
  ];
  for (const [p, host, op, type, name, expected] of cases) {
    assert.equal(a.authorize(who(p, host), op, type, name), expected, `${p} ${op} ${type} ${name}`);
  }
});

Deno.test("authorizer: implied operations, ALL, and deny winning over allow", async () => {
  const a = await authorizerWith([
    acl(RT.TOPIC, "t-read", ALICE, Op.READ),
    acl(RT.TOPIC, "t-write", ALICE, Op.WRITE),
    acl(RT.TOPIC, "t-delete", ALICE, Op.DELETE),
    acl(RT.TOPIC, "t-alter", ALICE, Op.ALTER),
    acl(RT.TOPIC, "t-altercfg", ALICE, Op.ALTER_CONFIGS),
    acl(RT.TOPIC, "t-all", ALICE, Op.ALL),
    acl(RT.TOPIC, "t-", ALICE, Op.ALL, Perm.ALLOW, PatternType.PREFIXED),
    acl(RT.TOPIC, "t-denied", ALICE, Op.WRITE, Perm.DENY),
    acl(RT.TOPIC, "t-denyread", ALICE, Op.READ, Perm.DENY),
    acl(RT.TOPIC, "*", BOB, Op.ALL, Perm.DENY),
    acl(RT.TOPIC, "t-bob", BOB, Op.READ),
  ]);
  for (const t of ["t-read", "t-write", "t-delete", "t-alter"]) {
    assert.equal(a.authorize(who(BOB), Op.DESCRIBE, RT.TOPIC, t), false);
  }
  const only = await authorizerWith([
    acl(RT.TOPIC, "r", ALICE, Op.READ),
    acl(RT.TOPIC, "w", ALICE, Op.WRITE),
    acl(RT.TOPIC, "d", ALICE, Op.DELETE),
    acl(RT.TOPIC, "al", ALICE, Op.ALTER),
    acl(RT.TOPIC, "ac", ALICE, Op.ALTER_CONFIGS),
    acl(RT.TOPIC, "c", ALICE, Op.CREATE),
    acl(RT.TOPIC, "dc", ALICE, Op.DESCRIBE_CONFIGS),
  ]);
  for (const t of ["r", "w", "d", "al"]) {
    assert.equal(only.authorize(who(ALICE), Op.DESCRIBE, RT.TOPIC, t), true, t);
  }
  assert.equal(only.authorize(who(ALICE), Op.DESCRIBE, RT.TOPIC, "c"), false);
  assert.equal(only.authorize(who(ALICE), Op.DESCRIBE_CONFIGS, RT.TOPIC, "ac"), true);
  assert.equal(only.authorize(who(ALICE), Op.ALTER_CONFIGS, RT.TOPIC, "dc"), false);
  assert.equal(only.authorize(who(ALICE), Op.DESCRIBE, RT.TOPIC, "dc"), false);
  assert.equal(only.authorize(who(ALICE), Op.READ, RT.TOPIC, "w"), false);
  // ALL grants every operation; a DENY of WRITE wins over the prefixed ALL.
  assert.equal(a.authorize(who(ALICE), Op.ALTER_CONFIGS, RT.TOPIC, "t-all"), true);
  assert.equal(a.authorize(who(ALICE), Op.WRITE, RT.TOPIC, "t-denied"), false);
  assert.equal(a.authorize(who(ALICE), Op.READ, RT.TOPIC, "t-denied"), true);
  // A DENY of READ does not deny DESCRIBE (implication works for ALLOW only).
  assert.equal(a.authorize(who(ALICE), Op.DESCRIBE, RT.TOPIC, "t-denyread"), true);
  // The wildcard DENY ALL for bob wins over his literal ALLOW.
  assert.equal(a.authorize(who(BOB), Op.READ, RT.TOPIC, "t-bob"), false);
  assert.equal(
    a.authorizedOperations(who(ALICE), RT.TOPIC, "t-denied"),
    (1 << 3) | (1 << 5) | (1 << 8) | (1 << 6) | (1 << 7) | (1 << 10) | (1 << 11),
  );
  assert.equal(only.authorizedOperations(who(ALICE), RT.TOPIC, "r"), (1 << 3) | (1 << 8));
});

Deno.test("authorizer: super.users, allow.everyone.if.no.acl.found, denial counting", async () => {
  assert.deepEqual([...parseSuperUsers(" User:admin ;User:ops;; ")], ["User:admin", "User:ops"]);
  const denials: [number, number][] = [];
  const a = await authorizerWith([acl(RT.TOPIC, "guarded", ALICE, Op.READ)], {
    superUsers: ["User:admin"],
    allowEveryoneIfNoAclFound: true,
    onDenied: (t: number, op: number) => denials.push([t, op]),
  });
  assert.equal(a.authorize(who("User:admin"), Op.DELETE, RT.TOPIC, "guarded"), true);
  assert.equal(a.authorize(who(BOB), Op.READ, RT.TOPIC, "free"), true);
  assert.equal(a.authorize(who(BOB), Op.READ, RT.TOPIC, "guarded"), false);
  assert.equal(a.authorize(who(BOB), Op.WRITE, RT.TOPIC, "guarded", true), false);
  assert.deepEqual(denials, [[RT.TOPIC, Op.READ]]);
  const strict = await authorizerWith([]);
  assert.equal(strict.authorize(who(BOB), Op.READ, RT.TOPIC, "free"), false);
  assert.equal(strict.authorizedOperations(who(BOB), RT.CLUSTER, "kafka-cluster"), 0);
});

Deno.test("authorizer: authorizeByResourceType as Kafka's default (deny dominance)", async () => {
  const w = async (acls: AclBinding[]) =>
    (await authorizerWith(acls)).authorizeByResourceType(who(ALICE), Op.WRITE, RT.TOPIC);
  assert.equal(await w([]), false);
  assert.equal(await w([acl(RT.TOPIC, "x", ALICE, Op.WRITE)]), true);
  assert.equal(await w([acl(RT.TOPIC, "x", ALICE, Op.READ)]), false);
  assert.equal(
    await w([acl(RT.TOPIC, "x", ALICE, Op.WRITE), acl(RT.TOPIC, "x", ALICE, Op.WRITE, Perm.DENY)]),
    false,
  );
  assert.equal(
    await w([
      acl(RT.TOPIC, "ab", ALICE, Op.WRITE),
      acl(RT.TOPIC, "a", ALICE, Op.WRITE, Perm.DENY, PatternType.PREFIXED),
    ]),
    false,
  );
  assert.equal(
    await w([acl(RT.TOPIC, "x", ALICE, Op.WRITE), acl(RT.TOPIC, "*", ALICE, Op.ALL, Perm.DENY)]),
    false,
  );
  assert.equal(
    await w([acl(RT.TOPIC, "p", ALICE, Op.ALL, Perm.ALLOW, PatternType.PREFIXED)]),
    true,
  );
});

Deno.test("ACL validation: Kafka's INVALID_REQUEST cases for creations and filters", async () => {
  const a = await StandardAuthorizer.open(new MemoryAclStore());
  const bad: [AclBinding, string][] = [
    [acl(RT.TOPIC, "t", "alice", Op.READ), "Could not parse principal from `alice`"],
    [acl(RT.ANY, "t", ALICE, Op.READ), "Invalid resourceType ANY"],
    [acl(RT.UNKNOWN, "t", ALICE, Op.READ), "Invalid resourceType UNKNOWN"],
    [acl(RT.TOPIC, "t", ALICE, Op.ANY), "Invalid operation ANY"],
    [acl(RT.TOPIC, "t", ALICE, Op.READ, Perm.ANY), "Invalid permissionType ANY"],
    [
      acl(RT.TOPIC, "t", ALICE, Op.READ, Perm.ALLOW, PatternType.MATCH),
      "Invalid patternType MATCH",
    ],
    [acl(RT.TOPIC, "", ALICE, Op.READ), "Invalid empty resource name"],
    [
      acl(RT.CLUSTER, "c", ALICE, Op.ALTER),
      "The only valid name for the CLUSTER resource is kafka-cluster",
    ],
  ];
  const results = await a.createAcls(bad.map(([b]) => b));
  results.forEach((r, i) => {
    assert.ok(r instanceof KafkaError);
    assert.equal(r.code, ErrorCode.INVALID_REQUEST);
    assert.ok(r.message.startsWith(bad[i][1]), r.message);
  });
  assert.deepEqual(a.all(), []);
  const filter: AclBindingFilter = {
    resourceType: RT.UNKNOWN,
    resourceName: null,
    patternType: PatternType.ANY,
    principal: null,
    host: null,
    operation: Op.ANY,
    permissionType: Perm.ANY,
  };
  assert.throws(
    () => a.describeAcls(filter),
    (e: KafkaError) => e.code === ErrorCode.INVALID_REQUEST,
  );
  const [d] = await a.deleteAcls([{ ...filter, resourceType: RT.ANY, operation: Op.UNKNOWN }]);
  assert.ok("error" in d && d.error.code === ErrorCode.INVALID_REQUEST);
});

Deno.test("ACL filters: ANY, MATCH, LITERAL and PREFIXED, and deletion", async () => {
  const acls = [
    acl(RT.TOPIC, "foo", ALICE, Op.READ),
    acl(RT.TOPIC, "*", ALICE, Op.READ),
    acl(RT.TOPIC, "fo", BOB, Op.WRITE, Perm.ALLOW, PatternType.PREFIXED),
    acl(RT.TOPIC, "foo", BOB, Op.WRITE, Perm.DENY, PatternType.PREFIXED),
    acl(RT.GROUP, "foo", ALICE, Op.READ),
  ];
  const a = await authorizerWith(acls);
  const any: AclBindingFilter = {
    resourceType: RT.ANY,
    resourceName: null,
    patternType: PatternType.ANY,
    principal: null,
    host: null,
    operation: Op.ANY,
    permissionType: Perm.ANY,
  };
  const names = (f: Partial<AclBindingFilter>) =>
    a.describeAcls({ ...any, ...f }).map((b) =>
      `${b.resourceType}:${b.patternType}:${b.resourceName}`
    );
  assert.equal(names({}).length, 5);
  assert.deepEqual(names({ resourceType: RT.TOPIC, resourceName: "foo" }), ["2:3:foo", "2:4:foo"]);
  assert.deepEqual(
    names({ resourceType: RT.TOPIC, resourceName: "foo", patternType: PatternType.MATCH }),
    [
      "2:3:foo",
      "2:3:*",
      "2:4:fo",
      "2:4:foo",
    ],
  );
  assert.deepEqual(names({ resourceType: RT.TOPIC, patternType: PatternType.PREFIXED }), [
    "2:4:fo",
    "2:4:foo",
  ]);
  assert.deepEqual(names({ resourceName: "foo", patternType: PatternType.LITERAL }), [
    "2:3:foo",
    "3:3:foo",
  ]);
  assert.deepEqual(names({ principal: BOB, permissionType: Perm.DENY }), ["2:4:foo"]);
  // Creating an existing ACL again changes nothing.
  assert.deepEqual(await a.createAcls([acls[0]]), [null]);
  assert.equal(a.all().length, 5);
  const [r1, r2] = await a.deleteAcls([
    { ...any, resourceType: RT.TOPIC, principal: BOB },
    { ...any, resourceType: RT.GROUP },
  ]);
  assert.ok("deleted" in r1 && r1.deleted.length === 2);
  assert.ok("deleted" in r2 && r2.deleted.length === 1);
  assert.deepEqual(a.all(), acls.slice(0, 2));
  // Two filters matching one ACL: the first reports it, as Kafka's AclControlManager.
  const [f1, f2] = await a.deleteAcls([
    { ...any, resourceName: "foo", patternType: PatternType.LITERAL },
    { ...any, principal: ALICE },
  ]);
  assert.ok("deleted" in f1 && "deleted" in f2);
  assert.deepEqual([f1.deleted, f2.deleted], [[acls[0]], [acls[1]]]);
  assert.deepEqual(a.all(), []);
});

Deno.test("authorizer: concurrent changes apply one after another, none lost", async () => {
  const a = await StandardAuthorizer.open(new MemoryAclStore());
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => a.createAcls([acl(RT.TOPIC, `t${i}`, ALICE, Op.READ)])),
  );
  assert.deepEqual(results, Array(20).fill([null]));
  assert.equal(a.all().length, 20);
});

Deno.test("FileAclStore: ACLs survive a new authorizer, the file is replaced whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const changes: number[] = [];
    const a = await StandardAuthorizer.open(new FileAclStore(dir), {
      onChanged: () => changes.push(1),
    });
    await a.createAcls([
      acl(RT.TOPIC, "t", ALICE, Op.READ),
      acl(RT.GROUP, "g-", BOB, Op.ALL, Perm.DENY, PatternType.PREFIXED),
    ]);
    assert.equal(changes.length, 1);
    const b = await StandardAuthorizer.open(new FileAclStore(dir));
    assert.deepEqual(b.all(), a.all());
    assert.equal(b.authorize(who(ALICE), Op.READ, RT.TOPIC, "t"), true);
    await b.deleteAcls([{
      resourceType: RT.TOPIC,
      resourceName: null,
      patternType: PatternType.ANY,
      principal: null,
      host: null,
      operation: Op.ANY,
      permissionType: Perm.ANY,
    }]);
    assert.equal((await StandardAuthorizer.open(new FileAclStore(dir))).all().length, 1);
    assert.equal(
      (await Array.fromAsync(Deno.readDir(`${dir}/meta`))).map((e) => e.name).join(),
      "acls.json",
    );
    await Deno.writeTextFile(`${dir}/meta/acls.json`, "{not json");
    await assert.rejects(StandardAuthorizer.open(new FileAclStore(dir)), /cannot read ACLs/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
