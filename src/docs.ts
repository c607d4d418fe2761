/**
 * README sections generated from the code: the supported-API table comes from the handler
 * registry and the configuration reference from the config definitions, so neither is kept
 * by hand. `deno task docs` rewrites them; tests/readme_test.ts fails when they drift.
 */
import { BROKER_CONFIGS, TOPIC_CONFIGS } from "./config.ts";
import { HANDLERS } from "./handlers/mod.ts";

export function apiTable(): string {
  const rows = [...HANDLERS].sort((a, b) => a.apiKey - b.apiKey).map((h) =>
    `| ${h.apiKey} | ${h.name} | ${h.minVersion}–${h.maxVersion} |`
  );
  return ["| Key | API | Versions |", "| ---: | --- | --- |", ...rows].join("\n");
}

function fmt(v: unknown): string {
  if (v === null) return "(unset)";
  if (v === Number.MAX_SAFE_INTEGER) return "Long.MAX";
  return `\`${String(v)}\``;
}

export function configTable(): string {
  const broker = BROKER_CONFIGS.map((d) =>
    `| \`${d.name}\` | ${d.type} | ${fmt(d.default)} | ${d.doc} |`
  );
  const topic = TOPIC_CONFIGS.map((d) =>
    `| \`${d.name}\` | ${d.type} | ${
      d.brokerKey ? `\`${d.brokerKey}\`` : fmt(d.default)
    } | ${d.doc} |`
  );
  return [
    "Broker settings (`--config` file or `--set key=value`):",
    "",
    "| Key | Type | Default | Meaning |",
    "| --- | --- | --- | --- |",
    ...broker,
    "",
    "Topic settings (CreateTopics configs; default from the broker setting named):",
    "",
    "| Key | Type | Default | Meaning |",
    "| --- | --- | --- | --- |",
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
