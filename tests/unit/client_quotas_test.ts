/**
 * Client quotas without a broker: Kafka's precedence table, the sampled rate and throttle
 * times under a manual clock, and the validation of AlterClientQuotas / DescribeClientQuotas.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../protocol/errors.ts";
import { ClientQuotaManager } from "../../src/quota/client_quota_manager.ts";
import {
  ClientQuotas,
  type QuotaEntity,
  QuotaError,
  validateEntity,
  validateFilter,
  validateOp,
} from "../../src/quota/client_quotas.ts";
import { MemoryClientQuotaStore } from "../../src/quota/quota_store.ts";
import { SampledRate, throttleTimeMs } from "../../src/quota/sampled_rate.ts";
import { quotaUser } from "../../src/quota/request_throttle.ts";

const K = "producer_byte_rate";

Deno.test("quota precedence: the most specific entity that sets the key wins, as Kafka's", () => {
  // Entities from least to most specific; each is added in turn and must then win.
  const order: [QuotaEntity, string][] = [
    [{ "client-id": null }, JSON.stringify([null, "c"])],
    [{ "client-id": "c" }, JSON.stringify([null, "c"])],
    [{ user: null }, JSON.stringify(["u", null])],
    [{ user: null, "client-id": null }, JSON.stringify(["u", "c"])],
    [{ user: null, "client-id": "c" }, JSON.stringify(["u", "c"])],
    [{ user: "u" }, JSON.stringify(["u", null])],
    [{ user: "u", "client-id": null }, JSON.stringify(["u", "c"])],
    [{ user: "u", "client-id": "c" }, JSON.stringify(["u", "c"])],
  ];
  const t = new ClientQuotas();
  assert.equal(t.resolve(K, "u", "c"), null);
  order.forEach(([entity, sensor], i) => {
    t.apply(entity, [{ key: K, value: 100 + i, remove: false }]);
    assert.deepEqual(t.resolve(K, "u", "c"), { bound: 100 + i, sensor }, JSON.stringify(entity));
  });
  // Another user and client id fall back to the defaults, each counted on its own.
  assert.deepEqual(t.resolve(K, "v", "d"), { bound: 103, sensor: JSON.stringify(["v", "d"]) });
  // Keys resolve independently: a consumer quota on a less specific entity still applies.
  t.apply({ "client-id": "c" }, [{ key: "consumer_byte_rate", value: 7, remove: false }]);
  assert.deepEqual(t.resolve("consumer_byte_rate", "u", "c"), {
    bound: 7,
    sensor: JSON.stringify([null, "c"]),
  });
  // Removing the last value drops the entity.
  t.apply({ user: "u", "client-id": "c" }, [{ key: K, value: 0, remove: true }]);
  assert.equal(t.resolve(K, "u", "c")?.bound, 106);
  assert.equal(t.all().some((e) => e.entity.user === "u" && e.entity["client-id"] === "c"), false);
});

Deno.test("sampled rate: windows, the minimum span of num-1 windows, purge and throttle", () => {
  const r = new SampledRate({ samples: 11, windowMs: 1000 });
  const t0 = 1_000_000;
  r.record(10_000, t0);
  // One burst is averaged over at least 10 whole windows.
  assert.equal(r.span(t0), 10_000);
  assert.equal(r.measure(t0), 1000);
  assert.equal(throttleTimeMs(r, 1000, t0), 0);
  assert.equal(throttleTimeMs(r, 500, t0), 10_000); // (1000 - 500) / 500 * 10 s
  r.record(10_000, t0 + 500); // same window
  assert.equal(r.measure(t0 + 500), 20_000 / 10.5);
  r.record(1000, t0 + 5_500); // a new window: 5.5 s spanned, counted as 10.5 s
  assert.equal(r.span(t0 + 5_500), 10_500);
  assert.equal(r.measure(t0 + 5_500), 21_000 / 10.5);
  // 11 windows after the first, it is dropped; the later one stays.
  assert.equal(r.measure(t0 + 11_000), 1000 / 10.5);
  assert.equal(r.idle(t0 + 11_000), false);
  assert.equal(r.measure(t0 + 5_500 + 11_000), 0);
  assert.equal(r.idle(t0 + 5_500 + 11_000), true);
});

Deno.test("quota manager: record and throttle per sensor, capped at the sampled span", async () => {
  let now = 5_000_000;
  const store = new MemoryClientQuotaStore();
  const m = new ClientQuotaManager(store, { samples: 11, windowMs: 1000 }, undefined, () => now);
  assert.equal(m.active, false);
  assert.deepEqual(
    await m.alter(
      [{ entity: { user: null }, ops: [{ key: K, value: 1000, remove: false }] }],
      false,
    ),
    [null],
  );
  assert.equal(m.active, true);
  assert.equal(m.recordAndGetThrottleTimeMs(K, "alice", "p", 5_000), 0); // 500 B/s over 10 s
  assert.equal(m.recordAndGetThrottleTimeMs(K, "alice", "p", 10_000), 5_000); // 1500 B/s
  assert.equal(m.throttleTimeMs(K, "alice", "p"), 5_000);
  // Bob has his own sensor under the user default.
  assert.equal(m.recordAndGetThrottleTimeMs(K, "bob", "p", 1_000), 0);
  // A huge overshoot is capped at quota.window.num x quota.window.size.
  assert.equal(m.recordAndGetThrottleTimeMs(K, "alice", "p", 10_000_000), 11_000);
  now += 30_000;
  assert.equal(m.throttleTimeMs(K, "alice", "p"), 0);
  // Request time: 100 % is one second of handling per second.
  await m.alter([{
    entity: { "client-id": "busy" },
    ops: [{ key: "request_percentage", value: 10, remove: false }],
  }], false);
  m.recordRequestTime("x", "busy", 2_000); // 200 percent-seconds over 10 s: 20 %
  assert.equal(m.throttleTimeMs("request_percentage", "x", "busy"), 10_000);
  // The table survives a new manager on the same store.
  const again = new ClientQuotaManager(store, { samples: 11, windowMs: 1000 });
  assert.deepEqual(again.describe([], false).length, 2);
  assert.equal(quotaUser("User:alice"), "alice");
  assert.equal(quotaUser("User:ANONYMOUS"), "ANONYMOUS");
});

function refusal(f: () => void): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof QuotaError);
    assert.equal(e.errorCode, ErrorCode.INVALID_REQUEST);
    return e.message;
  }
  assert.fail("not refused");
}

Deno.test("alter validation: entities, keys and values as Kafka's controller checks them", async () => {
  assert.equal(refusal(() => validateEntity({})), "Invalid empty client quota entity");
  assert.equal(
    refusal(() => validateEntity({ group: "g" })),
    "Unhandled client quota entity type: group",
  );
  assert.equal(refusal(() => validateEntity({ user: "" })), "Empty user not supported");
  assert.match(
    refusal(() => validateEntity({ ip: "1.2.3.4", user: "u" })),
    /IP entity should not be combined/,
  );
  validateEntity({ user: null, "client-id": "c" });
  validateEntity({ ip: null });
  const op = (key: string, value: number, remove = false) => ({ key, value, remove });
  assert.equal(
    refusal(() => validateOp({ user: "u" }, op("bogus", 1))),
    "Invalid configuration key bogus",
  );
  assert.equal(refusal(() => validateOp({ ip: "h" }, op(K, 1))), `Invalid configuration key ${K}`);
  assert.equal(
    refusal(() => validateOp({ user: "u" }, op(K, 1.5))),
    `Configuration ${K} must be a Long value`,
  );
  assert.match(refusal(() => validateOp({ user: "u" }, op(K, 0))), /must be greater than 0/);
  assert.match(refusal(() => validateOp({ user: "u" }, op(K, NaN))), /Invalid value/);
  validateOp({ user: "u" }, op("request_percentage", 12.5));
  validateOp({ user: "u" }, op(K, 0, true)); // a removal's value is not checked
  validateOp({ ip: "h" }, op("connection_creation_rate", 3));
  // The manager answers per entry and applies only the valid ones.
  const m = new ClientQuotaManager(new MemoryClientQuotaStore(), { samples: 11, windowMs: 1000 });
  const results = await m.alter([
    { entity: { user: "a" }, ops: [op(K, 10)] },
    { entity: { user: "b" }, ops: [op(K, 10), op(K, 20)] },
    { entity: { user: "c" }, ops: [op("nope", 1)] },
  ], false);
  assert.equal(results[0], null);
  assert.equal(results[1]?.message, `Duplicate quota key ${K} not updating quota.`);
  assert.equal(results[2]?.message, "Invalid configuration key nope");
  assert.deepEqual(m.describe([], false), [{ entity: { user: "a" }, values: { [K]: 10 } }]);
  // validateOnly changes nothing.
  assert.deepEqual(await m.alter([{ entity: { user: "z" }, ops: [op(K, 1)] }], true), [null]);
  assert.equal(m.describe([], false).length, 1);
});

Deno.test("describe filters: exact, default, any name, strict, and Kafka's refusals", () => {
  const t = new ClientQuotas();
  const set = (e: QuotaEntity) => t.apply(e, [{ key: K, value: 1, remove: false }]);
  set({ user: "u" });
  set({ user: null });
  set({ user: "u", "client-id": "c" });
  set({ "client-id": "c" });
  const keys = (components: Parameters<ClientQuotas["describe"]>[0], strict: boolean) =>
    t.describe(components, strict).map((e) => JSON.stringify(e.entity)).sort();
  assert.deepEqual(keys([{ entityType: "user", matchType: 0, match: "u" }], false), [
    '{"user":"u","client-id":"c"}',
    '{"user":"u"}',
  ]);
  assert.deepEqual(keys([{ entityType: "user", matchType: 0, match: "u" }], true), [
    '{"user":"u"}',
  ]);
  assert.deepEqual(keys([{ entityType: "user", matchType: 1, match: null }], false), [
    '{"user":null}',
  ]);
  assert.deepEqual(keys([{ entityType: "user", matchType: 2, match: null }], true), [
    '{"user":"u"}',
  ]);
  assert.deepEqual(keys([], false).length, 4);
  assert.deepEqual(keys([], true), []);
  assert.equal(
    refusal(() => validateFilter([{ entityType: "user", matchType: 0, match: null }])),
    "Request specified no match for user",
  );
  assert.match(
    refusal(() => validateFilter([{ entityType: "user", matchType: 1, match: "x" }])),
    /match type 1/,
  );
  assert.match(
    refusal(() => validateFilter([{ entityType: "topic", matchType: 2, match: null }])),
    /not supported/,
  );
  assert.match(
    refusal(() =>
      validateFilter([
        { entityType: "user", matchType: 2, match: null },
        { entityType: "user", matchType: 1, match: null },
      ])
    ),
    /more than once/,
  );
  assert.match(
    refusal(() =>
      validateFilter([
        { entityType: "ip", matchType: 2, match: null },
        { entityType: "user", matchType: 1, match: null },
      ])
    ),
    /IP filter component/,
  );
  assert.match(
    refusal(() => validateFilter([{ entityType: "user", matchType: 7, match: null }])),
    /match type/,
  );
});
