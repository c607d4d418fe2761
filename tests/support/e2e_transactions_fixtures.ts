/** Shared by the end-to-end transaction tests: clients, kcat reads, offsets and DescribeTransactions. */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
} from "../../protocol/messages/mod.ts";
import type { Msg } from "./msg.ts";
import { decoder, kcat } from "./helpers.ts";
import { RawClient } from "./raw_client.ts";

export function client(address: string): Kafka {
  return new Kafka({
    clientId: "tributary-txn-test",
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 500 },
    connectionTimeout: 3000,
    requestTimeout: 10000,
  });
}

/** Values of one partition as kcat (librdkafka) reads them at an isolation level. */
export async function kcatValues(
  address: string,
  topic: string,
  partition: number,
  isolation: "read_committed" | "read_uncommitted",
): Promise<string[]> {
  const out = await kcat(address, [
    "-C",
    "-t",
    topic,
    "-p",
    String(partition),
    "-o",
    "beginning",
    "-e",
    "-q",
    "-X",
    `isolation.level=${isolation}`,
    "-f",
    "%s\n",
  ], { timeoutMs: 20_000 });
  return decoder.decode(out).split("\n").filter((l) => l !== "");
}

/** ListOffsets latest at an isolation level (1 = read_committed: the last stable offset). */
export async function latestOffset(
  port: number,
  topic: string,
  partition: number,
  committed: boolean,
) {
  const r = await RawClient.once(port, ListOffsetsRequest, ListOffsetsResponse, 5, {
    replicaId: -1,
    isolationLevel: committed ? 1 : 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp: -1 }] }],
  });
  const p = r.topics[0].partitions[0];
  assert.equal(p.errorCode, 0);
  return p.offset as number;
}

export async function describeTxn(port: number, id: string): Promise<Msg> {
  const r = await RawClient.once(
    port,
    DescribeTransactionsRequest,
    DescribeTransactionsResponse,
    0,
    {
      transactionalIds: [id],
    },
  );
  return r.transactionStates[0];
}

/** Shared with every other test (tests/support/wait.ts). */
export { waitFor } from "./wait.ts";

/** kafkajs's error type name (KafkaJSProtocolError.type), also through its wrappers. */
export function errorType(e: unknown): string {
  let cur = e as { type?: string; originalError?: unknown; cause?: unknown; name?: string };
  for (let i = 0; i < 5 && cur; i++) {
    if (cur.type) return cur.type;
    cur = (cur.originalError ?? cur.cause) as typeof cur;
  }
  return String((e as Error)?.message ?? e);
}

export const FENCED = ["PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH"];
