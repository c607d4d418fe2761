/**
 * One conformance suite for the security state's stores (SCRAM credentials, ACLs, client
 * quotas), run over each backend: the data-directory files of a broker on its own, and the
 * metadata store of a cluster (in-memory twin and real etcd). A "view" is one broker's (or
 * worker's) set of stores over the shared backing: what one view writes, another sees; with
 * separate writers (the metadata store), changes made at the same time are all kept.
 */
import assert from "node:assert/strict";
import type { AclStore } from "../../src/security/acl_store.ts";
import {
  type AclBinding,
  AclOperation,
  AclPermissionType,
  PatternType,
  ResourceType,
} from "../../src/security/acl_binding.ts";
import type { ScramCredentialStore } from "../../src/security/scram_credential_store.ts";
import type { ClientQuotaStore } from "../../src/quota/quota_store.ts";
import type { QuotaEntry } from "../../src/quota/client_quotas.ts";
import {
  base64,
  credentialFromPassword,
  SCRAM_SHA_256,
  SCRAM_SHA_512,
} from "../../src/security/sasl/scram_formatter.ts";
import { waitFor } from "./wait.ts";

export interface SecurityView {
  scram: ScramCredentialStore;
  acls: AclStore;
  quotas: ClientQuotaStore;
}

export interface SecurityStoreFixture {
  /** Another broker's stores over the same backing. */
  view(): Promise<SecurityView>;
  /** Views write independently (not serialised by one process): no change may be lost. */
  separateWriters: boolean;
  /** Every byte stored so far, as text: to prove no password is in it. */
  storedText(): Promise<string>;
  close(): Promise<void>;
}

const acl = (over: Partial<AclBinding>): AclBinding => ({
  resourceType: ResourceType.TOPIC,
  resourceName: "orders",
  patternType: PatternType.LITERAL,
  principal: "User:alice",
  host: "*",
  operation: AclOperation.READ,
  permissionType: AclPermissionType.ALLOW,
  ...over,
});

const sortAcls = (l: AclBinding[]) =>
  [...l].sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
const sortQuotas = (l: QuotaEntry[]) =>
  [...l].sort((a, b) => JSON.stringify(a.entity) < JSON.stringify(b.entity) ? -1 : 1);

export function runSecurityStoreConformance(
  name: string,
  fixture: () => Promise<SecurityStoreFixture>,
): void {
  Deno.test(`security stores (${name}): SCRAM credentials, ACLs, quotas shared`, async (t) => {
    const f = await fixture();
    try {
      const a = await f.view();
      const b = await f.view();

      await t.step("SCRAM: upsert, seen by another view, delete, no password stored", async () => {
        assert.equal(b.scram.credential("alice", SCRAM_SHA_256), undefined);
        const c256 = await credentialFromPassword(SCRAM_SHA_256, "alice-secret-pw-1", 4096);
        const c512 = await credentialFromPassword(SCRAM_SHA_512, "alice-secret-pw-1", 8192);
        const odd = "o/d%d <default> ü";
        await a.scram.alter([
          { op: "upsert", user: "alice", mechanism: SCRAM_SHA_256, credential: c256 },
          { op: "upsert", user: "alice", mechanism: SCRAM_SHA_512, credential: c512 },
          { op: "upsert", user: odd, mechanism: SCRAM_SHA_256, credential: c256 },
        ]);
        // The writer sees its change when alter resolves.
        assert.deepEqual(a.scram.credential("alice", SCRAM_SHA_512), c512);
        await waitFor(
          "the other view to see alice",
          () => b.scram.credential("alice", SCRAM_SHA_512) !== undefined,
        );
        const got = b.scram.credential("alice", SCRAM_SHA_256)!;
        assert.deepEqual(got.storedKey, c256.storedKey);
        assert.deepEqual(got.serverKey, c256.serverKey);
        assert.deepEqual(got.salt, c256.salt);
        assert.equal(got.iterations, 4096);
        assert.equal(b.scram.credential("alice", SCRAM_SHA_512)!.iterations, 8192);
        await waitFor("the odd user name", () => b.scram.users().has(odd));
        assert.deepEqual(
          [...b.scram.users().get("alice")!].map((u) => [u.mechanism.name, u.iterations]),
          [["SCRAM-SHA-256", 4096], ["SCRAM-SHA-512", 8192]],
        );
        const text = await f.storedText();
        assert.ok(!text.includes("alice-secret-pw-1"), "the password is not stored");
        assert.ok(text.includes(base64(c256.storedKey)), "the StoredKey is");
        await b.scram.alter([
          { op: "delete", user: "alice", mechanism: SCRAM_SHA_512 },
          { op: "delete", user: odd, mechanism: SCRAM_SHA_256 },
        ]);
        await waitFor("the deletion to reach the first view", () => !a.scram.users().has(odd));
        assert.equal(a.scram.credential("alice", SCRAM_SHA_512), undefined);
        assert.deepEqual(a.scram.credential("alice", SCRAM_SHA_256)?.storedKey, c256.storedKey);
      });

      await t.step("ACLs: update, load from another view, delete, odd names", async () => {
        assert.deepEqual(await b.acls.load(), []);
        const first = [
          acl({}),
          acl({ operation: AclOperation.WRITE, permissionType: AclPermissionType.DENY }),
          acl({ resourceName: "ord", patternType: PatternType.PREFIXED, host: "10.0.0.1" }),
          acl({ resourceType: ResourceType.GROUP, resourceName: "g/1%x", principal: "User:*" }),
          acl({ resourceType: ResourceType.CLUSTER, resourceName: "kafka-cluster" }),
        ];
        const r = await a.acls.update((current) => ({ acls: [...current, ...first], result: 7 }));
        assert.equal(r.result, 7);
        assert.deepEqual(sortAcls(r.acls), sortAcls(first));
        assert.deepEqual(sortAcls(await b.acls.load()), sortAcls(first));
        // A change computed from what is saved now, by the other view.
        const d = await b.acls.update((current) => ({
          acls: current.filter((x) => x.resourceType !== ResourceType.GROUP),
          result: current.length,
        }));
        assert.equal(d.result, 5);
        assert.equal(d.acls.length, 4);
        assert.deepEqual(
          sortAcls(await a.acls.load()),
          sortAcls(first.slice(0, 3).concat(first[4])),
        );
        // A change of more resources than one etcd transaction takes (128 operations).
        const many = Array.from({ length: 300 }, (_, i) => acl({ resourceName: `bulk-${i}` }));
        const bulk = await a.acls.update((current) => ({ acls: [...current, ...many], result: 0 }));
        assert.equal(bulk.acls.length, 304);
        assert.equal((await b.acls.load()).length, 304);
        await b.acls.update((current) => ({
          acls: current.filter((x) => !x.resourceName.startsWith("bulk-")),
          result: 0,
        }));
        assert.equal((await a.acls.load()).length, 4);
        // No change: nothing written, the current set answered.
        const same = await a.acls.update((current) => ({ acls: null, result: current.length }));
        assert.equal(same.result, 4);
        assert.equal(same.acls.length, 4);
      });

      if (f.separateWriters) {
        await t.step(
          "ACLs and quotas: concurrent changes from two views are all kept",
          async () => {
            const add = (v: SecurityView, principal: string) =>
              v.acls.update((current) => ({
                acls: [...current, acl({ principal })],
                result: null,
              }));
            await Promise.all([
              add(a, "User:c1"),
              add(b, "User:c2"),
              add(a, "User:c3"),
              add(b, "User:c4"),
            ]);
            const principals = (await a.acls.load()).filter((x) =>
              x.resourceName === "orders" && x.operation === AclOperation.READ
            ).map((x) => x.principal).sort();
            assert.deepEqual(principals, [
              "User:alice",
              "User:c1",
              "User:c2",
              "User:c3",
              "User:c4",
            ]);
            const bump = (v: SecurityView, key: string) =>
              v.quotas.update((current) => {
                const e = current.find((q) => q.entity.user === "shared");
                const values = { ...(e?.values ?? {}), [key]: 1000 };
                return [...current.filter((q) => q !== e), { entity: { user: "shared" }, values }];
              });
            await Promise.all([bump(a, "producer_byte_rate"), bump(b, "consumer_byte_rate")]);
            await b.quotas.refresh?.();
            const shared = b.quotas.load().find((q) => q.entity.user === "shared");
            assert.deepEqual(shared?.values, {
              producer_byte_rate: 1000,
              consumer_byte_rate: 1000,
            });
            await a.quotas.update((current) => current.filter((q) => q.entity.user !== "shared"));
          },
        );
      }

      await t.step(
        "quotas: every entity kind round-trips and is seen by another view",
        async () => {
          const table: QuotaEntry[] = [
            { entity: { user: null }, values: { producer_byte_rate: 1024 } },
            { entity: { user: "u/1" }, values: { consumer_byte_rate: 2048.5 } },
            { entity: { user: "u", "client-id": null }, values: { request_percentage: 12.5 } },
            { entity: { user: null, "client-id": "c" }, values: { producer_byte_rate: 1 } },
            { entity: { "client-id": "<default>" }, values: { producer_byte_rate: 3 } },
            { entity: { "client-id": null }, values: { producer_byte_rate: 4 } },
            { entity: { ip: "10.1.1.1" }, values: { connection_creation_rate: 5 } },
          ];
          const saved = await a.quotas.update(() => table);
          assert.deepEqual(sortQuotas(saved), sortQuotas(table));
          assert.deepEqual(sortQuotas(a.quotas.load()), sortQuotas(table));
          await b.quotas.refresh?.();
          assert.deepEqual(sortQuotas(b.quotas.load()), sortQuotas(table));
          await b.quotas.update((current) => current.filter((q) => !("ip" in q.entity)));
          await a.quotas.refresh?.();
          assert.deepEqual(sortQuotas(a.quotas.load()), sortQuotas(table.slice(0, 6)));
        },
      );
    } finally {
      await f.close();
    }
  });
}
