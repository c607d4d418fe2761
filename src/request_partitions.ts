/**
 * Where a request names its partitions, read off its schema: the first top-level struct array
 * whose elements hold a topic (a string name, or a uuid topicId in the versions that carry
 * one) and an array of partition structs led by an int32 partition index. That is Produce's
 * topicData/partitionData and Fetch's topics/partitions, the arrays Kafka's request classes
 * walk for their partitions.
 */
import { type FieldSchema, type MessageSchema, parseVersions } from "../protocol/schema.ts";

/** The property names leading from a decoded request to its topics and partition indexes. */
export interface PartitionLayout {
  /** The top-level array of topics. */
  topics: string;
  /** The topic's name, when this version names topics. */
  topicName?: string;
  /** The topic's id, when this version identifies topics by id. */
  topicId?: string;
  /** The topic's array of partitions. */
  partitions: string;
  /** The partition index within a partition element. */
  index: string;
}

function inVersion(f: FieldSchema, version: number): boolean {
  const [lo, hi] = parseVersions(f.versions);
  return version >= lo && version <= hi && f.taggedVersions === undefined;
}

const isStructArray = (f: FieldSchema) => f.type.startsWith("[]") && f.fields !== undefined;

/** The layout of the request's partitions at `version`, or null when it names none. */
export function partitionLayout(schema: MessageSchema, version: number): PartitionLayout | null {
  for (const top of schema.fields) {
    if (!isStructArray(top) || !inVersion(top, version)) continue;
    const fields = top.fields!.filter((f) => inVersion(f, version));
    const name = fields.find((f) => f.type === "string");
    const id = fields.find((f) => f.type === "uuid");
    const parts = fields.find((f) => isStructArray(f));
    const index = parts?.fields?.find((f) => inVersion(f, version));
    if ((!name && !id) || !parts || index?.type !== "int32") continue;
    return {
      topics: top.name,
      topicName: name?.name,
      topicId: name ? undefined : id?.name,
      partitions: parts.name,
      index: index.name,
    };
  }
  return null;
}
