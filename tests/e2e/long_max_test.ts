/**
 * Kafka's Long.MAX_VALUE defaults (9223372036854775807) are held as
 * Number.MAX_SAFE_INTEGER internally; every place that shows them to people or clients prints
 * Kafka's value, never 9007199254740991: the admin API's topic configs and overrides, and the
 * README's configuration tables.
 */
import assert from "node:assert/strict";
import { createAdminApp } from "../../src/admin/app.ts";
import { testBroker } from "../support/helpers.ts";

const LONG_MAX = "9223372036854775807";

Deno.test("admin API: Long.MAX config values read 9223372036854775807", async () => {
  const b = await testBroker();
  const app = createAdminApp(b.broker);
  try {
    const created = await app.request("/v1/topics", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "lm", partitions: 1, configs: { "flush.ms": LONG_MAX } }),
    });
    assert.equal(created.status, 201, await created.text());
    const configs = await (await app.request("/v1/topics/lm/configs")).json();
    const byName = new Map<string, { value: string }>(
      configs.configs.map((e: { name: string; value: string }) => [e.name, e]),
    );
    for (const k of ["flush.ms", "flush.messages", "message.timestamp.before.max.ms"]) {
      assert.equal(byName.get(k)?.value, LONG_MAX, k);
    }
    const topic = await (await app.request("/v1/topics/lm")).json();
    assert.equal(topic.configs["flush.ms"], LONG_MAX);
  } finally {
    await b.stop();
  }
});

Deno.test("README: no Long.MAX default shows as 9007199254740991", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  assert.doesNotMatch(readme, /9007199254740991/);
  assert.match(readme, /\| `flush\.ms` \| long \| `9223372036854775807` \|/);
});
