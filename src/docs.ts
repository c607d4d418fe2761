/**
 * README sections generated from the code: the supported-API table comes from the handler
 * registry and the configuration reference from the config definitions, so neither is kept
 * by hand. `deno task docs` rewrites them; tests/unit/readme_test.ts fails when they drift.
 */
import { ALL_BROKER_CONFIGS, BROKER_CONFIGS, docOf, TOPIC_CONFIGS } from "./config.ts";
import { HANDLERS } from "./handlers/mod.ts";

export function apiTable(): string {
  const rows = [...HANDLERS].sort((a, b) => a.apiKey - b.apiKey).map((h) =>
    `| ${h.apiKey} | ${h.name} | ${h.minVersion}–${h.maxVersion} |`
  );
  return ["| Key | API | Versions |", "| ---: | --- | --- |", ...rows].join("\n");
}

function fmt(v: unknown): string {
  if (v === null) return "(unset)";
  if (v === "") return "(empty)";
  if (v === Number.MAX_SAFE_INTEGER) return "`9223372036854775807`";
  return `\`${String(v)}\``;
}

export function configTable(): string {
  const dynamic = new Map(ALL_BROKER_CONFIGS.map((d) => [d.name, d.dynamic ?? "—"]));
  const broker = BROKER_CONFIGS.map((d) =>
    `| \`${d.name}\` | ${d.type} | ${fmt(d.default)} | ${dynamic.get(d.name)} | ${d.doc} |`
  );
  const topic = TOPIC_CONFIGS.map((d) =>
    `| \`${d.name}\` | ${d.type} | ${fmt(d.default)} | ${
      d.brokerKey ? `\`${d.brokerKey}\`` : "—"
    } | ${docOf(d)} |`
  );
  const own = new Set(BROKER_CONFIGS.map((d) => d.name));
  const others = ALL_BROKER_CONFIGS.filter((d) => !own.has(d.name) && !d.internal);
  const names = (ds: typeof others) => ds.map((d) => `\`${d.name}\``).join(", ");
  return [
    "Broker settings this broker acts on (`--config` file or `--set key=value`; Dynamic: may be",
    "changed by AlterConfigs on the broker id (per-broker) or also as cluster default",
    "(cluster-wide), as in Kafka):",
    "",
    "| Key | Type | Default | Dynamic | Meaning |",
    "| --- | --- | --- | --- | --- |",
    ...broker,
    "",
    `The other ${others.length} Kafka 3.9 broker settings are accepted and validated by Kafka's`,
    "rules and listed by DescribeConfigs with Kafka's defaults, but have **no effect here**. Of",
    "those, AlterConfigs may change at runtime (as Kafka allows):",
    names(others.filter((d) => d.dynamic && d.dynamic !== "listener")) + ";",
    "per listener only (`listener.name.<listener>.` prefix):",
    names(others.filter((d) => d.dynamic === "listener")) + ".",
    "",
    "Topic settings (every Kafka 3.9 topic config; CreateTopics, AlterConfigs; a topic without",
    "its own value takes the broker setting named):",
    "",
    "| Key | Type | Kafka default | Broker setting | Meaning |",
    "| --- | --- | --- | --- | --- |",
    ...topic,
  ].join("\n");
}

const SECTIONS: Record<string, () => string> = {
  "api-table": apiTable,
  "config-table": configTable,
};

/** README text with every generated section replaced by its current content. */
export function renderReadme(text: string): string {
  for (const [name, gen] of Object.entries(SECTIONS)) {
    const re = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(text)) throw new Error(`README has no ${name} markers`);
    text = text.replace(re, (_m, a, b) => a + gen() + "\n" + b);
  }
  return text;
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  const text = await Deno.readTextFile(path);
  await Deno.writeTextFile(path, renderReadme(text));
  console.log("README.md sections regenerated");
}
