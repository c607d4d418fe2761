/**
 * Client-side failures. Broker answers keep Kafka's codes (KafkaError from protocol/errors.ts);
 * failures that never reached a broker answer (unreachable address, closed socket, timeout)
 * are a ClientError naming the address, so a person can act on them.
 */
import { errorName, KafkaError } from "../../protocol/errors.ts";

export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientError";
  }
}

/** Throws a KafkaError for a non-zero error code, with Kafka's name and the broker's message. */
export function throwIfError(code: number, message: string | null | undefined, what: string): void {
  if (code === 0) return;
  throw new KafkaError(
    code,
    `${errorName(code)}${message ? `: ${message}` : ""} (${what})`,
  );
}

/** Error codes after which refreshing metadata or the coordinator and retrying can succeed. */
export const RETRIABLE_CODES: ReadonlySet<number> = new Set([
  3, // UNKNOWN_TOPIC_OR_PARTITION (just created, metadata not yet propagated)
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH
]);
