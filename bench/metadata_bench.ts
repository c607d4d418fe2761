/**
 * A full Metadata v12 response for 100,000 partitions (100 topics of 1,000), built by the
 * handler's describeTopic and encoded by the schema codec: the broker's CPU for one
 * all-topics Metadata at issue 17's metadata-scale target (≤ 100 ms end to end).
 */
import { MetadataResponse } from "../protocol/messages/mod.ts";
import { encodeMessage } from "../protocol/schema.ts";
import { describeTopic } from "../src/handlers/metadata.ts";
import type { BrokerServices } from "../src/services.ts";

// Alone, describeTopic reads only the leadership view: this broker leads every partition.
const services = {
  leadership: { clustered: false, localNodeId: 1, leaderOf: () => undefined },
} as unknown as BrokerServices;
const topics = Array.from({ length: 100 }, (_, t) => ({
  name: `topic-${String(t).padStart(3, "0")}`,
  topicId: btoa(String(t).padStart(16, "x")).slice(0, 22),
  partitions: 1000,
  configs: {},
}));

function response() {
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 1, host: "127.0.0.1", port: 9092, rack: null }],
    clusterId: "cluster",
    controllerId: 1,
    topics: topics.map((t) => describeTopic(services, t, -2147483648)),
    clusterAuthorizedOperations: -2147483648,
  };
}

Deno.bench({
  name: "Metadata v12 for 100,000 partitions: build",
  group: "metadata",
  fn: () => {
    response();
  },
});

Deno.bench({
  name: "Metadata v12 for 100,000 partitions: build + encode",
  group: "metadata",
  baseline: true,
  fn: () => {
    encodeMessage(MetadataResponse, 12, response());
  },
});
