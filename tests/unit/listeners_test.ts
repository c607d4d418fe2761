import assert from "node:assert/strict";
import { BrokerConfig, ConfigError } from "../../src/config.ts";
import { parseEndpoints, resolveListeners } from "../../src/security/listeners.ts";

function config(settings: Record<string, string>): BrokerConfig {
  return new BrokerConfig(new Map(Object.entries(settings)));
}

function refused(settings: Record<string, string>, message: RegExp): void {
  assert.throws(() => resolveListeners(config(settings)), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("listeners: without settings, one PLAINTEXT listener on :9092", () => {
  const r = resolveListeners(config({}));
  assert.deepEqual(r.listeners, [{
    name: "PLAINTEXT",
    host: "",
    port: 9092,
    securityProtocol: "PLAINTEXT",
    advertisedHost: "127.0.0.1",
    advertisedPort: 9092,
  }]);
  assert.equal(r.interBrokerListener, "PLAINTEXT");
});

Deno.test("listeners: several named listeners with the map and advertised endpoints", () => {
  const r = resolveListeners(config({
    "listeners": "INTERNAL://127.0.0.1:9092, EXTERNAL://0.0.0.0:9093,tls://[::1]:9094",
    "advertised.listeners": "EXTERNAL://kafka.example.com:19093,TLS://:9094",
    "listener.security.protocol.map": "INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL,TLS:SSL",
    "inter.broker.listener.name": "internal",
  }));
  assert.deepEqual(r.listeners, [
    {
      name: "INTERNAL",
      host: "127.0.0.1",
      port: 9092,
      securityProtocol: "PLAINTEXT",
      advertisedHost: "127.0.0.1",
      advertisedPort: 9092,
    },
    {
      name: "EXTERNAL",
      host: "0.0.0.0",
      port: 9093,
      securityProtocol: "SASL_SSL",
      advertisedHost: "kafka.example.com",
      advertisedPort: 19093,
    },
    {
      name: "TLS",
      host: "::1",
      port: 9094,
      securityProtocol: "SSL",
      advertisedHost: "::1",
      advertisedPort: 9094,
    },
  ]);
  assert.equal(r.interBrokerListener, "INTERNAL");
});

Deno.test("listeners: Kafka's default map names the four protocols", () => {
  const r = resolveListeners(config({
    "listeners": "PLAINTEXT://h:1,SSL://h:2,SASL_PLAINTEXT://h:3,SASL_SSL://h:4",
  }));
  assert.deepEqual(
    r.listeners.map((l) => l.securityProtocol),
    ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
  );
});

Deno.test("listeners: the overrides apply to the first listener only", () => {
  const r = resolveListeners(
    config({ "listeners": "PLAINTEXT://:9092,SSL://:9093" }),
    { host: "127.0.0.1", port: 0, advertisedHost: "a.example", advertisedPort: 1234 },
  );
  assert.deepEqual(
    r.listeners.map((l) => [l.name, l.host, l.port, l.advertisedHost, l.advertisedPort]),
    [["PLAINTEXT", "127.0.0.1", 0, "a.example", 1234], ["SSL", "", 9093, "127.0.0.1", 9093]],
  );
});

Deno.test("listeners: security.inter.broker.protocol picks the listener named like it", () => {
  const r = resolveListeners(config({
    "listeners": "PLAINTEXT://:9092,SSL://:9093",
    "security.inter.broker.protocol": "SSL",
  }));
  assert.equal(r.interBrokerListener, "SSL");
});

Deno.test("listeners: a listener missing from the map is an error naming it", () => {
  refused(
    { "listeners": "PLAINTEXT://:9092,EXTERNAL://:9093" },
    /listener EXTERNAL has no security protocol in listener\.security\.protocol\.map/,
  );
});

Deno.test("listeners: an unknown protocol in the map is an error naming the listener", () => {
  refused(
    {
      "listeners": "EXTERNAL://:9093",
      "listener.security.protocol.map": "EXTERNAL:SASL_TLS",
    },
    /listener EXTERNAL: unknown security protocol 'SASL_TLS'/,
  );
});

Deno.test("listeners: malformed, duplicate and unknown advertised listeners are errors", () => {
  refused(
    { "listeners": "PLAINTEXT://localhost" },
    /cannot parse listener 'PLAINTEXT:\/\/localhost'/,
  );
  refused({ "listeners": "PLAINTEXT://:1,plaintext://:2" }, /PLAINTEXT is used more than once/);
  refused({ "listeners": "PLAINTEXT://:99999" }, /listener PLAINTEXT: port 99999 out of range/);
  refused(
    { "listeners": "PLAINTEXT://:9092", "advertised.listeners": "SSL://h:9093" },
    /advertised\.listeners: listener SSL is not one of the listeners \(PLAINTEXT\)/,
  );
  refused(
    { "listeners": "PLAINTEXT://:9092", "inter.broker.listener.name": "INTERNAL" },
    /listener INTERNAL is not one of the listeners/,
  );
  refused(
    {
      "listeners": "PLAINTEXT://:9092",
      "inter.broker.listener.name": "PLAINTEXT",
      "security.inter.broker.protocol": "PLAINTEXT",
    },
    /Only one of inter\.broker\.listener\.name and security\.inter\.broker\.protocol/,
  );
  refused(
    { "listeners": "PLAINTEXT://:9092", "security.inter.broker.protocol": "SSL" },
    /no listener is named SSL/,
  );
  assert.throws(() => parseEndpoints("listeners", " , "), /no listener given/);
});
