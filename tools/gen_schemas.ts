/**
 * Developer tool (`deno task gen`): regenerates protocol/messages/*.ts from Kafka's JSON
 * message definitions, vendored in protocol/kafka-json/ (see SOURCE.md there). Each file gets
 * the schemas as data, which protocol/schema.ts compiles into codecs, and one TypeScript
 * interface per message and nested struct, so handlers can be type-checked against the wire
 * format. tests/unit/gen_schemas_test.ts regenerates into a temporary directory and diffs, so the
 * generated files cannot drift from the definitions.
 *
 *   deno task gen                  # writes protocol/messages/
 *   deno task gen --out /tmp/x     # writes elsewhere (the drift test does this)
 *   deno task gen --json dir       # reads the definitions from another directory
 *
 * Type scheme (one interface per message covering all its versions, as franz-go's kmsg has one
 * struct per message): int8…int64 and float64 are `number`, bytes and records `Uint8Array`,
 * uuid `string` (Kafka's base64url form), a field nullable at some version adds `| null`.
 * The types are what a decoded message holds, so every field is required: the decoder fills a
 * field absent at the decoded version (or an absent tagged field) with its default. What is
 * encoded is `Encodable<T>` (protocol/schema.ts), where any field may be left out because the
 * encoder writes a missing field as its declared default. Each field's doc comment gives its
 * versions, nullable and tagged versions, and default.
 */

const ROOT = new URL("../", import.meta.url).pathname;

function arg(name: string, fallback: string): string {
  const i = Deno.args.indexOf(name);
  return i >= 0 && Deno.args[i + 1] ? Deno.args[i + 1] : fallback;
}
const dir = arg("--json", `${ROOT}protocol/kafka-json`);
const out = arg("--out", `${ROOT}protocol/messages`);

const APIS = [
  "Produce",
  "Fetch",
  "ListOffsets",
  "Metadata",
  "OffsetCommit",
  "OffsetFetch",
  "FindCoordinator",
  "JoinGroup",
  "Heartbeat",
  "LeaveGroup",
  "SyncGroup",
  "DescribeGroups",
  "ListGroups",
  "SaslHandshake",
  "ApiVersions",
  "CreateTopics",
  "DeleteTopics",
  "DeleteRecords",
  "InitProducerId",
  "OffsetForLeaderEpoch",
  "AddPartitionsToTxn",
  "AddOffsetsToTxn",
  "EndTxn",
  "WriteTxnMarkers",
  "TxnOffsetCommit",
  "DescribeAcls",
  "CreateAcls",
  "DeleteAcls",
  "DescribeConfigs",
  "AlterConfigs",
  "DescribeLogDirs",
  "SaslAuthenticate",
  "CreatePartitions",
  "DeleteGroups",
  "ElectLeaders",
  "IncrementalAlterConfigs",
  "AlterPartitionReassignments",
  "ListPartitionReassignments",
  "OffsetDelete",
  "DescribeClientQuotas",
  "AlterClientQuotas",
  "DescribeCluster",
  "DescribeProducers",
  "DescribeTransactions",
  "ListTransactions",
  "ConsumerGroupHeartbeat",
  "ConsumerGroupDescribe",
  "DescribeUserScramCredentials",
  "AlterUserScramCredentials",
  "DescribeTopicPartitions",
  "GetTelemetrySubscriptions",
  "PushTelemetry",
];
const DATA = [
  "RequestHeader",
  "ResponseHeader",
  "ConsumerProtocolSubscription",
  "ConsumerProtocolAssignment",
];

type J = Record<string, any>;

function load(name: string): J {
  const text = Deno.readTextFileSync(`${dir}/${name}.json`);
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, ""));
}

const camel = (s: string) => s[0].toLowerCase() + s.slice(1);
const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

function convertFields(fields: J[], common: Map<string, J[]>): J[] {
  return fields.map((f) => {
    const out: J = { name: camel(f.name), type: f.type, versions: f.versions };
    if (f.nullableVersions) out.nullableVersions = f.nullableVersions;
    if (f.taggedVersions) out.taggedVersions = f.taggedVersions;
    if (f.tag !== undefined) out.tag = f.tag;
    if (f.default !== undefined) out.default = String(f.default);
    const elem = f.type.replace(/^\[\]/, "");
    const sub = f.fields ?? common.get(elem);
    if (sub) out.fields = convertFields(sub, common);
    return out;
  });
}

function render(v: unknown, indent: string): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[\n" + v.map((x) => indent + "  " + render(x, indent + "  ") + ",\n").join("") +
      indent + "]";
  }
  if (v && typeof v === "object") {
    const entries = Object.entries(v as J);
    const simple = entries.filter(([k]) => k !== "fields");
    const head = simple.map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join(", ");
    const fields = (v as J).fields;
    if (!fields) return `{ ${head} }`;
    return `{ ${head}, fields: ${render(fields, indent)} }`;
  }
  return JSON.stringify(v);
}

function commonOf(j: J): Map<string, J[]> {
  const common = new Map<string, J[]>();
  for (const c of j.commonStructs ?? []) common.set(c.name, c.fields);
  return common;
}

function schemaOf(j: J): string {
  const fields = convertFields(j.fields, commonOf(j));
  const head = [
    `name: ${JSON.stringify(j.name)}`,
    j.apiKey !== undefined ? `apiKey: ${j.apiKey}` : null,
    `type: ${JSON.stringify(j.type)}`,
    `validVersions: ${JSON.stringify(j.validVersions)}`,
    `flexibleVersions: ${JSON.stringify(j.flexibleVersions ?? "none")}`,
  ].filter(Boolean).join(",\n  ");
  return `export const ${j.name}: MessageSchema<${j.name}> = {\n  ${head},\n  fields: ${
    render(fields, "  ")
  },\n};\n`;
}

// ---- TypeScript types ----

const PRIMITIVE: Record<string, string> = {
  int8: "number",
  int16: "number",
  uint16: "number",
  int32: "number",
  int64: "number",
  float64: "number",
  bool: "boolean",
  string: "string",
  bytes: "Uint8Array",
  records: "Uint8Array",
  uuid: "string",
};

/** Type names handed out so far, keyed by name, valued by "Message.Struct". */
const typeNames = new Map<string, string>();

/**
 * The exported name of a nested struct: Kafka's own name when it already starts with the
 * API's name (MetadataResponseTopic), otherwise prefixed with the message name
 * (CreateTopicsRequestCreatableTopic), so names stay unique across the whole module.
 */
function structTypeName(api: string, msg: string, struct: string): string {
  const key = `${msg}.${struct}`;
  for (const candidate of struct.startsWith(api) ? [struct, msg + struct] : [msg + struct]) {
    const owner = typeNames.get(candidate);
    if (owner === undefined || owner === key) {
      typeNames.set(candidate, key);
      return candidate;
    }
  }
  throw new Error(`type name clash for ${key}`);
}

const docText = (s: string) => s.replaceAll("*/", "* /").replace(/\s+/g, " ").trim();

/** A doc comment at `indent`, one line when it fits in 100 columns, wrapped otherwise. */
function docComment(text: string, indent: string): string {
  if (indent.length + text.length + 7 <= 100) return `${indent}/** ${text} */`;
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && indent.length + 3 + line.length + 1 + word.length > 100) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */`;
}

/** Whether a field's versions ("3+", "0-7") include every version the message has. */
function coversAll(versions: string, valid: string): boolean {
  const lo = (v: string) => Number(v.split(/[-+]/)[0]);
  return versions.endsWith("+") && lo(versions) <= lo(valid);
}

/** Interfaces for one message: the message itself first, then its structs in order. */
function typesOf(j: J, api: string): { code: string; names: string[] } {
  const common = commonOf(j);
  const msg: string = j.name;
  const flexible = (j.flexibleVersions ?? "none") !== "none";
  const blocks: string[] = [];
  const names: string[] = [];
  const done = new Set<string>();

  function emit(
    name: string,
    about: string | undefined,
    fields: J[],
  ): void {
    const lines: string[] = [];
    for (const f of fields) {
      const elem: string = f.type.replace(/^\[\]/, "");
      const isArray = f.type.startsWith("[]");
      let t = PRIMITIVE[elem];
      if (t === undefined) {
        const sub: J[] | undefined = f.fields ?? common.get(elem);
        if (!sub) throw new Error(`${msg}: unknown type ${f.type}`);
        const name = structTypeName(api, msg, elem);
        if (!done.has(name)) {
          done.add(name);
          queue.push(() => emit(name, f.about, sub));
        }
        t = name;
      }
      if (isArray) t = `${t}[]`;
      const nullable = f.nullableVersions !== undefined && f.nullableVersions !== "none";
      if (nullable) t = `${t} | null`;
      const notes = [`Versions ${f.versions}`];
      if (f.nullableVersions) notes.push(`nullable ${f.nullableVersions}`);
      if (f.tag !== undefined) notes.push(`tagged ${f.taggedVersions} (tag ${f.tag})`);
      if (f.default !== undefined) notes.push(`default ${String(f.default)}`);
      const about = f.about ? docText(f.about).replace(/([^.!?])$/, "$1.") : "";
      const doc = [about, notes.join("; ") + "."].filter(Boolean);
      lines.push(docComment(doc.join(" "), "  "));
      // A single struct (not an array) absent at the decoded version, or an absent tagged
      // one, decodes as undefined: such fields are optional.
      const single = !isArray && PRIMITIVE[elem] === undefined;
      const optional = single && (f.tag !== undefined || !coversAll(f.versions, j.validVersions));
      lines.push(`  ${camel(f.name)}${optional ? "?" : ""}: ${t};`);
    }
    if (flexible) {
      lines.push("  /** Tagged fields this version does not know, kept for a round trip. */");
      lines.push("  _unknownTags?: TaggedField[];");
    }
    const head = about ? docComment(docText(about), "") + "\n" : "";
    blocks.push(`${head}export interface ${name} {\n${lines.join("\n")}\n}\n`);
    names.push(name);
  }

  const queue: (() => void)[] = [];
  emit(
    msg,
    `${msg}, versions ${j.validVersions} (flexible ${j.flexibleVersions ?? "none"}).`,
    j.fields,
  );
  while (queue.length) queue.shift()!();
  return { code: blocks.join("\n"), names };
}

// ---- files ----

const banner = (what: string, flexible: boolean) =>
  `// ${what}: field layout per version, declared as data for protocol/schema.ts, and its\n` +
  `// TypeScript types. Generated by tools/gen_schemas.ts (deno task gen) from Kafka's message\n` +
  `// definitions in protocol/kafka-json/; edit there.\n` +
  `import type { MessageSchema${flexible ? ", TaggedField" : ""} } from "../schema.ts";\n\n`;

const flexibleOf = (...js: J[]) => js.some((j) => (j.flexibleVersions ?? "none") !== "none");

Deno.mkdirSync(out, { recursive: true });
const written: string[] = [];
const index: string[] = [];
function emitFile(file: string, what: string, messages: J[], api: string): void {
  const types = messages.map((j) => typesOf(j, api));
  const text = banner(what, flexibleOf(...messages)) +
    messages.map((j, i) => types[i].code + "\n" + schemaOf(j)).join("\n");
  Deno.writeTextFileSync(`${out}/${file}`, text);
  written.push(`${out}/${file}`);
  index.push(`export { ${messages.map((j) => j.name).join(", ")} } from "./${file}";`);
  const nested = types.flatMap((t) => t.names.slice(1));
  if (nested.length) index.push(`export type { ${nested.join(", ")} } from "./${file}";`);
}

for (const api of APIS) {
  const req = load(`${api}Request`);
  const res = load(`${api}Response`);
  emitFile(`${snake(api)}.ts`, `${api} (API key ${req.apiKey})`, [req, res], api);
}
for (const d of DATA) {
  emitFile(`${snake(d)}.ts`, d, [load(d)], d);
}
Deno.writeTextFileSync(
  `${out}/mod.ts`,
  "// Generated by tools/gen_schemas.ts (deno task gen).\n" + index.join("\n") + "\n",
);
written.push(`${out}/mod.ts`);

// The generated text is laid out by deno fmt, with the project's line width, so a
// regeneration into any directory is byte-identical to the committed files.
const fmt = new Deno.Command(Deno.execPath(), {
  args: ["fmt", "--quiet", "--line-width=100", ...written],
  stdout: "inherit",
  stderr: "inherit",
}).outputSync();
if (!fmt.success) throw new Error("deno fmt failed on the generated files");
console.log(`wrote ${APIS.length} APIs and ${DATA.length} data schemas to ${out}`);
