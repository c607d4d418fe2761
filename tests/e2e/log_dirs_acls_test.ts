/**
 * DescribeLogDirs and the ACL APIs of a broker without an authorizer, over the raw protocol
 * (every served version) and through kafkajs's and kafka-python's admin clients. (Neither
 * kafkajs 2.2.4 nor Debian's kafka-python 2.0.2 has describe_log_dirs, so log dirs are checked
 * over the raw protocol only.)
 */
import assert from "node:assert/strict";
import { isAbsolute, resolve } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { ErrorCode } from "../../protocol/errors.ts";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/messages/mod.ts";
import { encodeRecordBatch } from "../../protocol/records.ts";
import type { Msg } from "../support/msg.ts";
import { python, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

/** Bytes of a partition's segment files (*.log) on disk: Kafka's partition size. */
async function sizeOnDisk(dataDir: string, topic: string, partition: number): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(`${dataDir}/${topic}-${partition}`)) {
    if (e.isFile && e.name.endsWith(".log")) {
      n += (await Deno.stat(`${dataDir}/${topic}-${partition}/${e.name}`)).size;
    }
  }
  return n;
}

/** Produces one batch of `n` records; returns its size in bytes (what the log stores). */
async function produceBatch(c: RawClient, topic: string, partition: number, n: number) {
  const records = encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      value: `${topic}-${partition}-${"v".repeat(i * 7)}`,
    })),
  });
  const r = await c.call(ProduceRequest, ProduceResponse, 9, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  assert.equal(r.responses[0].partitionResponses[0].errorCode, 0);
  return records.length;
}

/** A result's topics as [name, [[partition, size, offsetLag, isFutureKey]...]]. */
function summary(topics: Msg[]) {
  return topics.map((t) => [
    t.name,
    (t.partitions as Msg[]).map((p) => [
      p.partitionIndex,
      Number(p.partitionSize),
      Number(p.offsetLag),
      p.isFutureKey,
    ]),
  ]);
}

Deno.test(
  "DescribeLogDirs v0–4: the data dir, exact partition sizes, topic filter, volume space",
  async () => {
    const b = await testBroker();
    const c = await RawClient.connect(b.port);
    try {
      await b.broker.createTopic("ld-a", 3);
      await b.broker.createTopic("ld-b", 1);
      // Bytes produced per partition: ld-a-0 two batches, ld-a-1 one, ld-a-2 none, ld-b-0 one.
      const a0 = (await produceBatch(c, "ld-a", 0, 5)) + (await produceBatch(c, "ld-a", 0, 40));
      const a1 = await produceBatch(c, "ld-a", 1, 1);
      const b0 = await produceBatch(c, "ld-b", 0, 12);
      assert.ok(a0 > 0 && a1 > 0 && b0 > 0 && a0 !== a1 && a1 !== b0);
      // What was produced is exactly what is on disk.
      assert.equal(await sizeOnDisk(b.dataDir, "ld-a", 0), a0);
      assert.equal(await sizeOnDisk(b.dataDir, "ld-a", 1), a1);
      assert.equal(await sizeOnDisk(b.dataDir, "ld-a", 2), 0);
      assert.equal(await sizeOnDisk(b.dataDir, "ld-b", 0), b0);

      const everything = [
        ["ld-a", [[0, a0, 0, false], [1, a1, 0, false], [2, 0, 0, false]]],
        ["ld-b", [[0, b0, 0, false]]],
      ];
      // The volume as df sees it (total is fixed; usable moves with parallel tests).
      const df = new TextDecoder().decode(
        (await run("df", ["-B1", "--output=size,avail", b.dataDir])).stdout,
      ).trim().split("\n")[1].trim().split(/\s+/).map(Number);

      for (let v = 0; v <= 4; v++) {
        const r = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
          topics: null,
        });
        assert.equal(r.throttleTimeMs, 0);
        if (v >= 3) assert.equal(r.errorCode, 0, `v${v}`);
        assert.equal(r.results.length, 1, `v${v}: one log dir`);
        const dir = r.results[0];
        assert.equal(dir.errorCode, 0);
        assert.ok(isAbsolute(dir.logDir));
        assert.equal(dir.logDir, resolve(b.dataDir));
        assert.deepEqual(summary(dir.topics), everything, `v${v}`);
        if (v >= 4) {
          assert.equal(Number(dir.totalBytes), df[0], "totalBytes = the volume's size");
          const usable = Number(dir.usableBytes);
          assert.ok(usable > 0 && usable <= Number(dir.totalBytes));
          assert.ok(Math.abs(usable - df[1]) < 2 ** 30, `usableBytes ${usable} vs df ${df[1]}`);
        }

        // Filtered: only partitions that exist and were asked for; topics with none left out.
        const f = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
          topics: [
            { topic: "ld-a", partitions: [2, 1, 7] },
            { topic: "no-such-topic", partitions: [0] },
            { topic: "ld-b", partitions: [] },
          ],
        });
        assert.deepEqual(summary(f.results[0].topics), [
          ["ld-a", [[1, a1, 0, false], [2, 0, 0, false]]],
        ]);
        const none = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
          topics: [],
        });
        assert.equal(none.results.length, 1);
        assert.deepEqual(none.results[0].topics, []);
      }

      // More data: the size follows the log.
      const more = await produceBatch(c, "ld-a", 2, 3);
      const r = await c.call(DescribeLogDirsRequest, DescribeLogDirsResponse, 4, {
        topics: [{ topic: "ld-a", partitions: [2] }],
      });
      assert.deepEqual(summary(r.results[0].topics), [["ld-a", [[2, more, 0, false]]]]);
      assert.equal(await sizeOnDisk(b.dataDir, "ld-a", 2), more);
    } finally {
      c.close();
      await b.stop();
    }
  },
);

const NO_AUTHORIZER = "No Authorizer is configured.";

Deno.test("ACL APIs v0–3 without an authorizer: SECURITY_DISABLED", async () => {
  const b = await testBroker();
  const c = await RawClient.connect(b.port);
  try {
    const av = await c.call(ApiVersionsRequest, ApiVersionsResponse, 2, {});
    const served = new Map(
      (av.apiKeys as Msg[]).map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]),
    );
    assert.deepEqual(served.get(29), [0, 3]);
    assert.deepEqual(served.get(30), [0, 3]);
    assert.deepEqual(served.get(31), [0, 3]);
    assert.deepEqual(served.get(35), [0, 4]);

    const filter = {
      resourceTypeFilter: 2, // TOPIC
      resourceNameFilter: "t",
      patternTypeFilter: 3, // LITERAL
      principalFilter: null,
      hostFilter: null,
      operation: 1, // ANY
      permissionType: 1, // ANY
    };
    const acl = (name: string) => ({
      resourceType: 2,
      resourceName: name,
      resourcePatternType: 3,
      principal: "User:alice",
      host: "*",
      operation: 3, // READ
      permissionType: 3, // ALLOW
    });
    for (let v = 0; v <= 3; v++) {
      const d = await c.call(DescribeAclsRequest, DescribeAclsResponse, v, filter);
      assert.equal(d.errorCode, ErrorCode.SECURITY_DISABLED, `DescribeAcls v${v}`);
      assert.equal(d.errorMessage, "No Authorizer is configured on the broker");
      assert.deepEqual(d.resources, []);

      const cr = await c.call(CreateAclsRequest, CreateAclsResponse, v, {
        creations: [acl("t1"), acl("t2")],
      });
      assert.deepEqual(cr.results, [
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER },
        { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER },
      ], `CreateAcls v${v}`);

      const dr = await c.call(DeleteAclsRequest, DeleteAclsResponse, v, {
        filters: [filter, { ...filter, resourceNameFilter: null }, filter],
      });
      assert.equal(dr.filterResults.length, 3, `DeleteAcls v${v}`);
      for (const fr of dr.filterResults as Msg[]) {
        assert.equal(fr.errorCode, ErrorCode.SECURITY_DISABLED);
        assert.equal(fr.errorMessage, NO_AUTHORIZER);
        assert.deepEqual(fr.matchingAcls, []);
      }
      const empty = await c.call(CreateAclsRequest, CreateAclsResponse, v, { creations: [] });
      assert.deepEqual(empty.results, []);
    }
  } finally {
    c.close();
    await b.stop();
  }
});

Deno.test("kafkajs admin: ACL calls reject with SECURITY_DISABLED", async () => {
  const b = await testBroker();
  const kafka = new Kafka({
    clientId: "tributary-test",
    brokers: [b.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 },
    connectionTimeout: 3000,
    requestTimeout: 10000,
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const isSecurityDisabled = (e: any) => {
      assert.equal(e.type, "SECURITY_DISABLED", String(e));
      assert.equal(e.code, 54);
      return true;
    };
    await assert.rejects(
      admin.describeAcls({
        resourceType: 1, // kafkajs AclResourceTypes.ANY
        resourcePatternType: 1, // ResourcePatternTypes.ANY
        operation: 2, // AclOperationTypes.ALL
        permissionType: 1, // AclPermissionTypes.ANY
      } as any),
      isSecurityDisabled,
    );
    const acl = {
      resourceType: 2, // TOPIC
      resourceName: "orders",
      resourcePatternType: 3, // LITERAL
      principal: "User:alice",
      host: "*",
      operation: 3, // READ
      permissionType: 3, // ALLOW
    };
    await assert.rejects(admin.createAcls({ acl: [acl] } as any), isSecurityDisabled);
    await assert.rejects(admin.deleteAcls({ filters: [acl] } as any), isSecurityDisabled);
  } finally {
    await admin.disconnect();
    await b.stop();
  }
});

const KAFKA_PYTHON_ACLS = `
import json, sys
from kafka.admin import (KafkaAdminClient, ACL, ACLFilter, ACLOperation, ACLPermissionType,
                         ResourcePattern, ResourcePatternFilter, ResourceType, ACLResourcePatternType)
from kafka.errors import SecurityDisabledError

admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="kpy-acls")
out = {}
flt = ACLFilter(principal=None, host="*", operation=ACLOperation.ANY,
                permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, "orders",
                                                       ACLResourcePatternType.LITERAL))
try:
    admin.describe_acls(flt)
    out["describe"] = "no error"
except SecurityDisabledError as e:
    out["describe"] = [type(e).__name__, e.errno]
acl = ACL(principal="User:alice", host="*", operation=ACLOperation.READ,
          permission_type=ACLPermissionType.ALLOW,
          resource_pattern=ResourcePattern(ResourceType.TOPIC, "orders"))
created = admin.create_acls([acl])
out["created"] = [len(created["succeeded"]), [type(err).__name__ if isinstance(err, Exception) else err.__name__ for _, err in created["failed"]]]
deleted = admin.delete_acls([flt])
out["deleted"] = [[err.__name__ if isinstance(err, type) else type(err).__name__, matches] for _, matches, err in deleted]
admin.close()
print(json.dumps(out))
`;

Deno.test("kafka-python admin: ACL calls fail with SecurityDisabledError", async () => {
  const b = await testBroker();
  try {
    const out = JSON.parse(await python(KAFKA_PYTHON_ACLS, [b.address], 60_000));
    assert.deepEqual(out, {
      describe: ["SecurityDisabledError", 54],
      created: [0, ["SecurityDisabledError"]],
      deleted: [["SecurityDisabledError", []]],
    });
  } finally {
    await b.stop();
  }
});
