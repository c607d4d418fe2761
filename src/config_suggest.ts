/**
 * "Did you mean …" for a config key nobody knows: the closest known broker or topic config
 * name by edit distance, so `num.partition` points at `num.partitions`.
 */
import { BROKER_DEFS, TOPIC_DEFS } from "./config.ts";

/** Levenshtein distance between `a` and `b` (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j] + 1,
        cur[j - 1] + 1,
        prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known config name closest to `key`, when close enough to be a slip: at most a third of
 * the key's length in edits (and at most 4), so an unrelated name gets no suggestion.
 */
export function suggestConfigName(
  key: string,
  known: Iterable<string> = [...BROKER_DEFS.keys(), ...TOPIC_DEFS.keys()],
): string | undefined {
  const limit = Math.min(4, Math.max(1, Math.floor(key.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of known) {
    if (Math.abs(name.length - key.length) > limit) continue;
    const d = editDistance(key.toLowerCase(), name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** The warning for an unknown key, with a suggestion when one is close. */
export function unknownConfigWarning(key: string): string {
  const s = suggestConfigName(key);
  return `unknown config '${key}' ignored` + (s ? ` (did you mean ${s}?)` : "");
}
