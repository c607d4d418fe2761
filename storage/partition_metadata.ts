/**
 * The small key-value files Kafka keeps beside the log: `partition.metadata` in each
 * partition directory (its topic id, so a directory of a deleted topic recreated under the
 * same name is recognised) and `meta.properties` (cluster and node id). Both are read with
 * the simple `key=value` / `key: value` rules Kafka writes them with.
 */
import { existsSync, readFileSync } from "node:fs";
import { fsyncDir, writeFileAtomic } from "./file_io.ts";
import { randomUuid } from "./topic_id.ts";

export const PARTITION_METADATA = "partition.metadata";
export const META_PROPERTIES = "meta.properties";

/** `key=value` or `key: value` lines; `#` and `!` comments. */
export function parseProperties(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "" || t.startsWith("#") || t.startsWith("!")) continue;
    const eq = t.search(/[=:]/);
    if (eq < 0) continue;
    m.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return m;
}

/** Reads `topic_id` from a partition directory's partition.metadata, or null. */
export function readPartitionTopicId(dir: string): string | null {
  try {
    return parseProperties(readFileSync(`${dir}/${PARTITION_METADATA}`, "utf8")).get(
      "topic_id",
    ) ?? null;
  } catch {
    return null;
  }
}

/**
 * Writes partition.metadata; not fsynced (if lost, it is rewritten on the next open). In a
 * directory made a moment ago (`fresh`) it is written in place: there is no older file a
 * torn write could spoil, and an empty one reads as none (the directory is left alone, and
 * the file rewritten when the partition opens).
 */
export function writePartitionMetadata(dir: string, topicId: string, fresh = false): void {
  const text = `version: 0\ntopic_id: ${topicId}\n`;
  if (fresh) Deno.writeTextFileSync(`${dir}/${PARTITION_METADATA}`, text);
  else writeFileAtomic(`${dir}/${PARTITION_METADATA}`, text, false);
}

/**
 * The cluster id and node id of a data directory from its meta.properties, created (with a
 * fresh cluster id, fsynced) on first start. A configured `nodeId` must match the stored one.
 */
/** The cluster id recorded in a data directory's meta.properties, or null before first start. */
export function readMetaClusterId(metaDir: string): string | null {
  const path = `${metaDir}/${META_PROPERTIES}`;
  if (!existsSync(path)) return null;
  return parseProperties(readFileSync(path, "utf8")).get("cluster.id") ?? null;
}

export function loadMetaProperties(
  metaDir: string,
  nodeId?: number,
  newClusterId?: string,
): { clusterId: string; nodeId: number } {
  const path = `${metaDir}/${META_PROPERTIES}`;
  if (existsSync(path)) {
    const props = parseProperties(readFileSync(path, "utf8"));
    const clusterId = props.get("cluster.id");
    const storedNode = Number(props.get("node.id"));
    if (!clusterId || !Number.isInteger(storedNode)) {
      throw new Error(`${path} lacks cluster.id or node.id`);
    }
    if (nodeId !== undefined && nodeId !== storedNode) {
      throw new Error(`node.id ${nodeId} does not match ${storedNode} stored in ${path}`);
    }
    return { clusterId, nodeId: storedNode };
  }
  const clusterId = newClusterId ?? randomUuid();
  const id = nodeId ?? 1;
  writeFileAtomic(
    path,
    `#\n#${new Date().toISOString()}\ncluster.id=${clusterId}\nnode.id=${id}\nversion=1\n`,
  );
  fsyncDir(metaDir);
  return { clusterId, nodeId: id };
}
