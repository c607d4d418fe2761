/**
 * Kafka's validators that are more than a type, a range or a list of choices, with the messages
 * its ConfigException carries (`Invalid value <v> for configuration <name>: <reason>`).
 */

/** A named validator of config_def.ts's ConfigDef.check. */
export type ConfigCheck =
  | "metadata-version"
  | "throttled-replicas"
  | "gzip-level"
  | "thread-pool-size"
  | "non-empty";

/** MetadataVersion's releases and their inter-broker protocol versions (Kafka 3.9). */
const RELEASES: [string, string[]][] = [
  ["0.8.0", [""]],
  ["0.8.1", [""]],
  ["0.8.2", [""]],
  ["0.9.0", [""]],
  ["0.10.0", ["IV0", "IV1"]],
  ["0.10.1", ["IV0", "IV1", "IV2"]],
  ["0.10.2", ["IV0"]],
  ["0.11.0", ["IV0", "IV1", "IV2"]],
  ["1.0", ["IV0"]],
  ["1.1", ["IV0"]],
  ["2.0", ["IV0", "IV1"]],
  ["2.1", ["IV0", "IV1", "IV2"]],
  ["2.2", ["IV0", "IV1"]],
  ["2.3", ["IV0", "IV1"]],
  ["2.4", ["IV0", "IV1"]],
  ["2.5", ["IV0"]],
  ["2.6", ["IV0"]],
  ["2.7", ["IV0", "IV1", "IV2"]],
  ["2.8", ["IV0", "IV1"]],
  ["3.0", ["IV0", "IV1"]],
  ["3.1", ["IV0"]],
  ["3.2", ["IV0"]],
  ["3.3", ["IV0", "IV1", "IV2", "IV3"]],
  ["3.4", ["IV0"]],
  ["3.5", ["IV0", "IV1", "IV2"]],
  ["3.6", ["IV0", "IV1", "IV2"]],
  ["3.7", ["IV0", "IV1", "IV2", "IV3", "IV4"]],
  ["3.8", ["IV0"]],
  ["3.9", ["IV0"]],
  // Not production in 3.9: only the full version names are valid.
  ["4.0", ["IV0", "IV1"]],
];

/**
 * The version keys MetadataVersion.fromVersionString knows: every full version ("0.10.0-IV1",
 * "3.0-IV1", "0.8.2") and every production release ("2.8" for its latest sub-version).
 */
const VERSION_KEYS = new Set(
  RELEASES.flatMap(([release, ivs]) => [
    ...ivs.map((iv) => iv ? `${release}-${iv}` : release),
    ...(release === "4.0" ? [] : [release]),
  ]),
);

/**
 * Whether MetadataVersion.fromVersionString accepts `v`: the first three dot-separated parts
 * for 0.x versions and two for later ones are looked up, so "2.8.1" is "2.8" and
 * "0.10.0.1" is "0.10.0".
 */
export function isMetadataVersion(v: string): boolean {
  const segments = v.split(".");
  const n = v.startsWith("0.") ? 3 : 2;
  const key = n >= segments.length ? v : segments.slice(0, n).join(".");
  return VERSION_KEYS.has(key);
}

/** The reason `value` fails `check` (Kafka's wording), or undefined when it passes. */
export function checkFailure(
  check: ConfigCheck,
  name: string,
  value: string | number | boolean | null,
): string | undefined {
  switch (check) {
    case "metadata-version":
      return isMetadataVersion(String(value))
        ? undefined
        : `Version ${value} is not a valid version`;
    case "throttled-replicas": {
      const items = String(value).split(",").map((s) => s.trim());
      const ok = items.every((s) => /^([0-9]+:[0-9]+)?$/.test(s)) || items.join("") === "*";
      return ok ? undefined : `${name} must be the literal '*' or a list of replicas in the ` +
        "following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...";
    }
    case "gzip-level": {
      const n = value as number;
      return n > 9 || (n < 1 && n !== -1)
        ? "Value must be between 1 and 9 or equal to -1"
        : undefined;
    }
    case "thread-pool-size": {
      const n = value as number;
      return n < -1 || n === 0 ? "Value can be -1 or greater than 0" : undefined;
    }
    case "non-empty":
      return value === "" ? "String must be non-empty" : undefined;
  }
}
