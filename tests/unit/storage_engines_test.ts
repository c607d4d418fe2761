/**
 * Both storage engines against the one storage conformance suite: the file engine (segment
 * files in a temp directory) and the memory engine, which must leave the directory it is
 * never given untouched.
 */
import assert from "node:assert/strict";
import { decompress } from "../../protocol/compression.ts";
import { logConfig } from "../../storage/log_config.ts";
import { LogManager } from "../../storage/log_manager.ts";
import { PartitionLog } from "../../storage/partition_log.ts";
import { runStorageConformance, type StorageHarness } from "../support/storage_conformance.ts";
import { runReplicationStorageConformance } from "../support/replication_storage_conformance.ts";

/** PartitionLog options for the log named "topic-partition". */
function named(name: string) {
  const dash = name.lastIndexOf("-");
  return { topic: name.slice(0, dash), partition: Number(name.slice(dash + 1)), decompress };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const fileHarness = async (): Promise<StorageHarness> => {
  const root = await Deno.makeTempDir({ prefix: "storage-file-" });
  let managers = 0;
  return {
    engine: "file",
    durable: true,
    open: (name, config) => PartitionLog.open(`${root}/${name}`, logConfig(config), named(name)),
    async reopen(log, config) {
      await log.close();
      return PartitionLog.open(log.dir, logConfig(config), named(`${log.topic}-${log.partition}`));
    },
    manager: (opts = {}) => {
      if (!opts.again) managers++;
      return LogManager.open(`${root}/manager-${managers}`, { decompress, ...opts });
    },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
};
runStorageConformance("file", fileHarness, { durable: true });
runReplicationStorageConformance("file", fileHarness, { durable: true });

const memoryHarness = async (): Promise<StorageHarness> => {
  // A directory the memory engine is never to create.
  const root = await Deno.makeTempDir({ prefix: "storage-memory-" });
  const unused = `${root}/never-created`;
  return {
    engine: "memory",
    durable: false,
    open: (name, config) =>
      PartitionLog.open(`${unused}/${name}`, logConfig(config), {
        ...named(name),
        engine: "memory",
      }),
    async reopen(log, config) {
      await log.close();
      return PartitionLog.open(log.dir, logConfig(config), {
        ...named(`${log.topic}-${log.partition}`),
        engine: "memory",
      });
    },
    manager: (opts = {}) => LogManager.open(unused, { decompress, ...opts, engine: "memory" }),
    async cleanup() {
      const created = await exists(unused);
      await Deno.remove(root, { recursive: true });
      assert.equal(created, false, "the memory engine created a directory");
    },
  };
};
runStorageConformance("memory", memoryHarness, { durable: false });
runReplicationStorageConformance("memory", memoryHarness, { durable: false });
