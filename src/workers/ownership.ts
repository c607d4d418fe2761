/**
 * Which Deno worker owns (opens, appends to, reads) a partition. Fixed by the worker count:
 * a restarted worker owns the same partitions again. Consecutive partitions of a topic go to
 * consecutive workers, so producers on different partitions spread over the cores. The
 * internal topics (`__consumer_offsets`, `__transaction_state`) belong to worker 0, where the
 * group and transaction coordinators run.
 */

/** The worker that runs the group and transaction coordinators and writes topics.json. */
export const CONTROLLER_WORKER = 0;

const CONTROLLER_TOPICS = new Set(["__consumer_offsets", "__transaction_state"]);

/** FNV-1a over the UTF-16 code units of a topic name. */
function topicHash(topic: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function ownerOf(topic: string, partition: number, workers: number): number {
  if (workers <= 1 || CONTROLLER_TOPICS.has(topic)) return CONTROLLER_WORKER;
  return (topicHash(topic) + partition) % workers;
}

/**
 * The owner of each partition of one topic, as ownerOf gives it, with the topic's hash taken
 * once: for requests that place many partitions of a topic.
 */
export function partitionOwners(topic: string, workers: number): (partition: number) => number {
  if (workers <= 1 || CONTROLLER_TOPICS.has(topic)) return () => CONTROLLER_WORKER;
  const h = topicHash(topic);
  return (partition) => (h + partition) % workers;
}
