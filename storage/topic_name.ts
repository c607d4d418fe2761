/** Kafka's topic name rules (Topic.validate), checked on create and on lookup by name. */
import { ErrorCode, KafkaError } from "../protocol/errors.ts";

const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's topic name rules; throws INVALID_TOPIC_EXCEPTION. */
export function validateTopicName(name: string): void {
  if (name.length === 0) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, "empty topic name");
  }
  if (name === "." || name === "..") {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `topic name cannot be "${name}"`);
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new KafkaError(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `topic name longer than ${MAX_TOPIC_NAME_LENGTH} characters`,
    );
  }
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) {
    throw new KafkaError(
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      `topic name ${name} has characters other than ASCII alphanumerics, '.', '_' and '-'`,
    );
  }
}
