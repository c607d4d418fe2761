/**
 * Several named listeners: one socket server each, and Metadata, DescribeCluster and
 * FindCoordinator answer the advertised endpoint of the listener the request came in on (also
 * when, with workers, the request is handled on another worker than the connection's).
 * Listener mistakes stop the CLI with exit 2 and a line naming the listener.
 */
import assert from "node:assert/strict";
import {
  DescribeClusterRequest,
  DescribeClusterResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
} from "../../protocol/messages/mod.ts";
import { BrokerProcess, run, testBroker } from "../support/helpers.ts";
import { RawClient } from "../support/raw_client.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

/** The endpoints a client on `port` is told by Metadata, DescribeCluster and FindCoordinator. */
async function endpointsSeenOn(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const md = await c.call(MetadataRequest, MetadataResponse, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const dc = await c.call(DescribeClusterRequest, DescribeClusterResponse, 1, {
      includeClusterAuthorizedOperations: false,
      endpointType: 1,
    });
    const fc = await c.call(FindCoordinatorRequest, FindCoordinatorResponse, 4, {
      keyType: 0,
      coordinatorKeys: ["g"],
    });
    return [
      `${md.brokers[0].host}:${md.brokers[0].port}`,
      `${dc.brokers[0].host}:${dc.brokers[0].port}`,
      `${fc.coordinators[0].host}:${fc.coordinators[0].port}`,
    ];
  } finally {
    c.close();
  }
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("listeners: each listener's clients are told that listener's advertised endpoint", async () => {
  const b = await testBroker({
    config: {
      "listeners": "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
      "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
      "advertised.listeners": "INTERNAL://internal.example:19094",
      "inter.broker.listener.name": "INTERNAL",
    },
  });
  try {
    const [plain, internal] = b.broker.listeners;
    assert.deepEqual(
      [plain.name, plain.securityProtocol, internal.name, internal.securityProtocol],
      ["PLAINTEXT", "PLAINTEXT", "INTERNAL", "PLAINTEXT"],
    );
    assert.notEqual(internal.port, plain.port);
    assert.equal(b.port, plain.port);
    assert.equal(b.broker.interBrokerListener, "INTERNAL");
    const p = `127.0.0.1:${plain.port}`;
    assert.deepEqual(await endpointsSeenOn(plain.port), [p, p, p]);
    const i = "internal.example:19094";
    assert.deepEqual(await endpointsSeenOn(internal.port), [i, i, i]);
    // Each connection carries its listener in its session.
    const c = await RawClient.connect(internal.port);
    try {
      await c.call(MetadataRequest, MetadataResponse, 12, {
        topics: [],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const sessions = [...b.broker.connections].map((x) => x.session);
      assert.deepEqual(sessions, [{
        listenerName: "INTERNAL",
        securityProtocol: "PLAINTEXT",
        principal: "User:ANONYMOUS",
      }]);
    } finally {
      c.close();
    }
  } finally {
    await b.stop();
  }
});

Deno.test("listeners: with workers, requests handled on another worker see the listener", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tributary-listeners-" });
  const internalPort = freePort();
  const b = await BrokerProcess.start(dataDir, [
    "--workers",
    "2",
    "--set",
    `listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:${internalPort}`,
    "--set",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
    "--set",
    `advertised.listeners=INTERNAL://internal.example:${internalPort + 1}`,
  ]);
  try {
    // FindCoordinator is handled on worker 0: connections accepted by worker 1 forward it.
    // Several connections land on both workers (SO_REUSEPORT spreads them by source port).
    const i = `internal.example:${internalPort + 1}`;
    const p = `127.0.0.1:${b.port}`;
    for (let n = 0; n < 6; n++) {
      assert.deepEqual(await endpointsSeenOn(internalPort), [i, i, i]);
      assert.deepEqual(await endpointsSeenOn(b.port), [p, p, p]);
    }
  } finally {
    await b.kill("SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

for (
  const [settings, message] of [
    [
      ["listeners=PLAINTEXT://127.0.0.1:0,EXTERNAL://127.0.0.1:0"],
      "listener EXTERNAL has no security protocol in listener.security.protocol.map",
    ],
    [
      ["listeners=EXTERNAL://127.0.0.1:0", "listener.security.protocol.map=EXTERNAL:TLS"],
      "listener EXTERNAL: unknown security protocol 'TLS'",
    ],
  ] as const
) {
  Deno.test(`listeners: the CLI refuses to start: ${message}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-listeners-" });
    try {
      const r = await run(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        "--data-dir",
        `${dir}/data`,
        ...settings.flatMap((s) => ["--set", s]),
      ], { timeoutMs: 30_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.doesNotMatch(r.stderr, /^\s+at /m, r.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}

for (const workers of ["1", "2"]) {
  Deno.test(`listeners (${workers} worker(s)): a second listener's port in use is named`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "tributary-listeners-" });
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (taken.addr as Deno.NetAddr).port;
      const r = await run(Deno.execPath(), [
        "run",
        "-A",
        CLI,
        "--data-dir",
        `${dir}/data`,
        "--workers",
        workers,
        "--set",
        `listeners=PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:${port}`,
        "--set",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
      ], { timeoutMs: 30_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.ok(
        r.stderr.includes(`listener INTERNAL: port ${port} on 127.0.0.1 is already in use`),
        r.stderr,
      );
      assert.doesNotMatch(r.stderr, /^\s+at /m, r.stderr);
    } finally {
      taken.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
}
