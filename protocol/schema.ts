/**
 * Schemas as data, and the one generic codec that walks them.
 *
 * Every Kafka message is declared once (protocol/messages/*.ts) as a MessageSchema: fields
 * with their version ranges, nullable versions and tags, exactly as Kafka's own JSON message
 * definitions describe them. `codecFor(schema, version)` compiles a schema for one version
 * into a pair of functions (decode/encode), generated for its fields, the first time that
 * version is seen, so the per-field version checks are paid once, not per message.
 *
 * Decoded messages are plain objects with camelCase field names. int64 is a JS number;
 * bytes and records are views into the request frame (no copy); uuid is Kafka's
 * base64url text form (22 characters), as topic ids are printed by Kafka's tools.
 */
import { ProtocolError } from "./errors.ts";
import { Reader, Writer } from "./primitives.ts";

/** A version range string as in Kafka's JSON: "0+", "3-7", "5", or "none". */
export type Versions = string;

export interface FieldSchema {
  /** camelCase property name. */
  name: string;
  /** int8 int16 uint16 int32 int64 float64 bool string bytes records uuid, a struct name,
   *  or an array of any of them written "[]type". */
  type: string;
  versions: Versions;
  nullableVersions?: Versions;
  taggedVersions?: Versions;
  tag?: number;
  /** Default as Kafka's JSON writes it ("-1", "null", "false", "0x7fffffff"). */
  default?: string;
  /** Sub-fields of a struct or struct array. */
  fields?: FieldSchema[];
}

/**
 * A message's schema. `T` is the TypeScript type generated for it (protocol/messages/), carried
 * only at the type level so a registration can tie a handler's request and response types to
 * the schemas the codec walks; hand-written schemas leave it loose.
 */
// deno-lint-ignore no-explicit-any
export interface MessageSchema<T = any> {
  name: string;
  apiKey?: number;
  type: "request" | "response" | "header" | "data";
  validVersions: Versions;
  flexibleVersions: Versions;
  fields: FieldSchema[];
  /** Type-level only: never set. */
  readonly __type?: T;
}

/** Parsed inclusive range; `none` is [1, 0] (contains nothing). */
export function parseVersions(v: Versions | undefined): [number, number] {
  if (v === undefined || v === "none" || v === "") return [1, 0];
  if (v.endsWith("+")) return [Number(v.slice(0, -1)), 0x7fff];
  const dash = v.indexOf("-");
  if (dash > 0) return [Number(v.slice(0, dash)), Number(v.slice(dash + 1))];
  return [Number(v), Number(v)];
}

function inRange(v: Versions | undefined, version: number): boolean {
  const [lo, hi] = parseVersions(v);
  return version >= lo && version <= hi;
}

export function hasVersion(schema: MessageSchema, version: number): boolean {
  return inRange(schema.validVersions, version);
}

export function isFlexible(schema: MessageSchema, version: number): boolean {
  return inRange(schema.flexibleVersions, version);
}

/** A message's unknown tagged fields, kept so a decode → encode round trip preserves them. */
export const UNKNOWN_TAGS = "_unknownTags";
export type TaggedField = [tag: number, data: Uint8Array];

/**
 * A message as the codec walks it: field name → value. Internal to the codec: callers use the
 * types generated in protocol/messages/ (`MetadataRequest`, `MetadataResponse`, …).
 */
type Loose = Record<string, unknown>;

/**
 * Strict encoding: a key that is no field of the struct (at any version) makes encoding throw,
 * so a misspelt response field (`errorcode: 6`) fails loudly instead of going out as its
 * default. Off by default (it costs a key walk per struct); the test harness turns it on, and
 * so does TRIBUTARY_STRICT_ENCODE=1 in the environment (which reaches worker threads and
 * broker subprocesses started by tests).
 */
let strictEncoding = readStrictEnv();

function readStrictEnv(): boolean {
  try {
    const q = Deno.permissions.querySync({ name: "env", variable: "TRIBUTARY_STRICT_ENCODE" });
    return q.state === "granted" && Deno.env.get("TRIBUTARY_STRICT_ENCODE") === "1";
  } catch {
    return false;
  }
}

/** Turns strict encoding (unknown keys are an error) on or off for this thread. */
export function setStrictEncoding(on: boolean): void {
  strictEncoding = on;
}

export function isStrictEncoding(): boolean {
  return strictEncoding;
}

type Dec = (r: Reader) => unknown;
type Enc = (w: Writer, v: unknown) => void;

interface CompiledStruct {
  decode(r: Reader): Loose;
  encode(w: Writer, m: Loose): void;
}

/**
 * What the encoder accepts for a message of type `T`: any field may be left out, at any depth,
 * because a missing field is written as its declared default. Misspelt keys are still compile
 * errors (excess property checks), and a runtime error under strict encoding.
 */
export type Encodable<T> = T extends Uint8Array ? T
  : T extends readonly unknown[] ? { [K in keyof T]: Encodable<T[K]> }
  : T extends object ? { [K in keyof T]?: Encodable<T[K]> }
  : T;

export interface Codec<T = unknown> {
  readonly schema: MessageSchema<T>;
  readonly version: number;
  readonly flexible: boolean;
  /** Every field is present in the result: absent ones carry their defaults. */
  decode(r: Reader): T;
  encode(w: Writer, m: Encodable<T>): void;
}

const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** Kafka's text form of a UUID: URL-safe base64 without padding. */
export function uuidToString(b: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < 16; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function uuidFromString(s: string): Uint8Array {
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/") + "==";
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw new ProtocolError(`invalid uuid ${s}`);
  }
  if (bin.length !== 16) throw new ProtocolError(`invalid uuid ${s}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A random topic/cluster id, never the zero or sentinel UUID. */
export function randomUuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f; // keep it away from Kafka's reserved "all ones" style sentinels
  if (b[0] === 0) b[0] = 1;
  return uuidToString(b);
}

const EMPTY = new Uint8Array(0);

/** The value a field takes when absent at a version, from its declared default. */
function defaultValue(f: FieldSchema): unknown {
  const d = f.default;
  if (f.type.startsWith("[]")) return d === "null" ? null : [];
  switch (f.type) {
    case "bool":
      return d === "true";
    case "string":
      return d === "null" ? null : (d ?? "");
    case "bytes":
    case "records":
      return d === "null" ? null : EMPTY;
    case "uuid":
      return ZERO_UUID;
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "int64":
    case "float64":
      return d === undefined || d === "" ? 0 : Number(d);
    default:
      // struct
      return d === "null" ? null : undefined;
  }
}

function primitiveDecoder(type: string, flexible: boolean, nullable: boolean): Dec | null {
  switch (type) {
    case "int8":
      return (r) => r.int8();
    case "int16":
      return (r) => r.int16();
    case "uint16":
      return (r) => r.uint16();
    case "int32":
      return (r) => r.int32();
    case "int64":
      return (r) => r.int64();
    case "float64":
      return (r) => r.float64();
    case "bool":
      return (r) => r.bool();
    case "uuid":
      return (r) => uuidToString(r.uuid());
    case "string":
      if (flexible) return nullable ? (r) => r.compactNullableString() : (r) => r.compactString();
      return nullable ? (r) => r.nullableString() : (r) => r.string();
    case "bytes":
    case "records":
      if (flexible) return nullable ? (r) => r.compactNullableBytes() : (r) => r.compactBytes();
      return nullable ? (r) => r.nullableBytes() : (r) => r.bytes();
  }
  return null;
}

function primitiveEncoder(type: string, flexible: boolean, nullable: boolean): Enc | null {
  switch (type) {
    case "int8":
      return (w, v) => w.int8((v as number) ?? 0);
    case "int16":
      return (w, v) => w.int16((v as number) ?? 0);
    case "uint16":
      return (w, v) => w.uint16((v as number) ?? 0);
    case "int32":
      return (w, v) => w.int32((v as number) ?? 0);
    case "int64":
      return (w, v) => w.int64((v as number) ?? 0);
    case "float64":
      return (w, v) => w.float64((v as number) ?? 0);
    case "bool":
      return (w, v) => w.bool(!!v);
    case "uuid":
      return (w, v) => w.uuid(uuidFromString((v as string) ?? ZERO_UUID));
    case "string":
      if (flexible) {
        return nullable
          ? (w, v) => w.compactNullableString(v as string | null)
          : (w, v) => w.compactString((v as string) ?? "");
      }
      return nullable
        ? (w, v) => w.nullableString(v as string | null)
        : (w, v) => w.string((v as string) ?? "");
    case "bytes":
      if (flexible) {
        return nullable
          ? (w, v) => w.compactNullableBytes(v as Uint8Array | null)
          : (w, v) => w.compactBytes((v as Uint8Array) ?? EMPTY);
      }
      return nullable
        ? (w, v) => w.nullableBytes(v as Uint8Array | null)
        : (w, v) => w.bytes((v as Uint8Array) ?? EMPTY);
    case "records":
      // Record data may be large: the writer references it instead of copying it.
      return (w, v) => {
        const b = v as Uint8Array | null | undefined;
        if (b == null) {
          if (!nullable) throw new Error("records field is not nullable");
          if (flexible) w.uvarint(0);
          else w.int32(-1);
          return;
        }
        if (flexible) w.uvarint(b.length + 1);
        else w.int32(b.length);
        w.rawRef(b);
      };
  }
  return null;
}

/** Smallest encoded size of one element, used to bound array lengths before allocating. */
function minSize(type: string): number {
  switch (type) {
    case "int16":
    case "uint16":
      return 2;
    case "int32":
      return 4;
    case "int64":
    case "float64":
      return 8;
    case "uuid":
      return 16;
    default:
      return 1;
  }
}

/**
 * A function made from `src` for one field: code of its own, so its element loads and stores
 * keep feedback of that field's arrays alone (a closure shared by every array field goes
 * megamorphic). Null when the runtime refuses code generation (the caller has a closure).
 */
function perField<F>(params: string[], src: string, args: unknown[]): F | null {
  try {
    return new Function(...params, src)(...args) as F;
  } catch {
    return null;
  }
}

function fieldDecoder(f: FieldSchema, version: number, flexible: boolean): Dec {
  const nullable = inRange(f.nullableVersions, version);
  if (f.type.startsWith("[]")) {
    const elemType = f.type.slice(2);
    const elem: Dec = f.fields
      ? compileStruct(f.fields, version, flexible).decode
      : primitiveDecoder(elemType, flexible, false)!;
    if (!elem) throw new Error(`unknown type ${f.type}`);
    const min = f.fields ? 1 : minSize(elemType);
    const nullError = () => new ProtocolError(`non-nullable array ${f.name} is null`);
    return perField<Dec>(
      ["elem", "flexible", "min", "nullable", "nullError"],
      `return function decodeArray(r) {
        const n = r.arrayLength(flexible, min);
        if (n < 0) {
          if (!nullable) throw nullError();
          return null;
        }
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = elem(r);
        return out;
      };`,
      [elem, flexible, min, nullable, nullError],
    ) ?? ((r) => {
      const n = r.arrayLength(flexible, min);
      if (n < 0) {
        if (!nullable) throw nullError();
        return null;
      }
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = elem(r);
      return out;
    });
  }
  if (f.fields) {
    const s = compileStruct(f.fields, version, flexible);
    if (nullable) {
      return (r) => (r.int8() < 0 ? null : s.decode(r));
    }
    return s.decode;
  }
  const d = primitiveDecoder(f.type, flexible, nullable);
  if (!d) throw new Error(`unknown type ${f.type} for ${f.name}`);
  return d;
}

function fieldEncoder(f: FieldSchema, version: number, flexible: boolean): Enc {
  const nullable = inRange(f.nullableVersions, version);
  if (f.type.startsWith("[]")) {
    const elemType = f.type.slice(2);
    const elem: Enc = f.fields
      ? compileStruct(f.fields, version, flexible).encode as Enc
      : primitiveEncoder(elemType, flexible, false)!;
    if (!elem) throw new Error(`unknown type ${f.type}`);
    const generated = perField<Enc>(
      ["elem", "flexible", "nullable"],
      `return function encodeArray(w, arr) {
        if (arr == null) {
          if (!nullable) {
            if (flexible) w.uvarint(1);
            else w.int32(0);
            return;
          }
          if (flexible) w.uvarint(0);
          else w.int32(-1);
          return;
        }
        if (flexible) w.uvarint(arr.length + 1);
        else w.int32(arr.length);
        for (let i = 0; i < arr.length; i++) elem(w, arr[i]);
      };`,
      [elem, flexible, nullable],
    );
    if (generated) return generated;
    return (w, v) => {
      const arr = v as unknown[] | null | undefined;
      if (arr == null) {
        if (!nullable) {
          // A missing non-nullable array is written empty rather than failing the response.
          if (flexible) w.uvarint(1);
          else w.int32(0);
          return;
        }
        if (flexible) w.uvarint(0);
        else w.int32(-1);
        return;
      }
      if (flexible) w.uvarint(arr.length + 1);
      else w.int32(arr.length);
      for (let i = 0; i < arr.length; i++) elem(w, arr[i]);
    };
  }
  if (f.fields) {
    const s = compileStruct(f.fields, version, flexible);
    const defaults = () => s.decodeDefaults();
    if (nullable) {
      return (w, v) => {
        if (v == null) return w.int8(-1);
        w.int8(1);
        s.encode(w, v as Loose);
      };
    }
    return (w, v) => s.encode(w, (v as Loose) ?? defaults());
  }
  const e = primitiveEncoder(f.type, flexible, nullable);
  if (!e) throw new Error(`unknown type ${f.type} for ${f.name}`);
  return e;
}

interface StructPlan extends CompiledStruct {
  decodeDefaults(): Loose;
}

function isDefault(f: FieldSchema, v: unknown): boolean {
  if (v === undefined) return true;
  const d = defaultValue(f);
  if (f.fields && !f.type.startsWith("[]")) return v == null;
  if (Array.isArray(v)) return v.length === 0 && d !== null;
  if (v instanceof Uint8Array) return v.length === 0 && d !== null;
  return v === d;
}

function checkKeys(m: Loose, known: Set<string>): void {
  for (const k in m) {
    if (!known.has(k)) {
      throw new Error(`strict encoding: unknown field "${k}" (fields: ${[...known].join(", ")})`);
    }
  }
}

const structCache = new WeakMap<FieldSchema[], Map<number, StructPlan>>();

function compileStruct(fields: FieldSchema[], version: number, flexible: boolean): StructPlan {
  let byVersion = structCache.get(fields);
  if (!byVersion) structCache.set(fields, byVersion = new Map());
  const key = version * 2 + (flexible ? 1 : 0);
  const cached = byVersion.get(key);
  if (cached) return cached;

  const regular: { name: string; dec: Dec; enc: Enc; def: unknown }[] = [];
  const tagged: { f: FieldSchema; tag: number; dec: Dec; enc: Enc }[] = [];
  const absent: { name: string; f: FieldSchema }[] = [];
  for (const f of fields) {
    if (!inRange(f.versions, version)) {
      absent.push({ name: f.name, f });
      continue;
    }
    const isTagged = flexible && f.tag !== undefined && inRange(f.taggedVersions, version);
    if (f.tag !== undefined && !isTagged) {
      // A tagged-only field at a non-flexible version does not exist on the wire.
      absent.push({ name: f.name, f });
      continue;
    }
    const dec = fieldDecoder(f, version, flexible);
    const enc = fieldEncoder(f, version, flexible);
    if (isTagged) tagged.push({ f, tag: f.tag!, dec, enc });
    // A field missing from a message being encoded is written as its declared default, as
    // Kafka's generated code initialises it (-1, null, true, 0x7fffffff …). Without a declared
    // default the type's zero is written (0, "", empty array), and null where nullable.
    else {regular.push({
        name: f.name,
        dec,
        enc,
        def: f.default === undefined ? undefined : defaultValue(f),
      });}
  }
  const known = new Set(fields.map((f) => f.name));
  known.add(UNKNOWN_TAGS);
  tagged.sort((a, b) => a.tag - b.tag);
  const tagIndex = new Map(tagged.map((t) => [t.tag, t]));

  /** Reads the tagged fields of a flexible struct into `m` (their defaults already set). */
  const decodeTagged = (r: Reader, m: Loose): Loose => {
    const n = r.uvarint();
    if (n > r.remaining) throw new ProtocolError("tagged field count exceeds frame");
    let unknown: TaggedField[] | undefined;
    let lastTag = -1;
    for (let i = 0; i < n; i++) {
      const tag = r.uvarint();
      if (tag <= lastTag) throw new ProtocolError("tagged fields out of order");
      lastTag = tag;
      const size = r.uvarint();
      r.need(size);
      const t = tagIndex.get(tag);
      if (t) {
        const sub = new Reader(r.buf, r.pos, r.pos + size);
        m[t.f.name] = t.dec(sub);
        r.pos += size;
      } else {
        (unknown ??= []).push([tag, r.raw(size)]);
      }
    }
    if (unknown) m[UNKNOWN_TAGS] = unknown;
    return m;
  };
  /** Writes the tagged fields of a flexible struct (and the unknown ones it carries). */
  const encodeTagged = (w: Writer, m: Loose): void => {
    const unknown = m[UNKNOWN_TAGS] as TaggedField[] | undefined;
    // Most structs have no tagged field set (every partition of a Metadata response): no
    // allocation for them, which is most of a 100,000-partition response's encoding.
    if (unknown === undefined && noneTagged(tagged, m)) return w.uvarint(0);
    const present: { tag: number; bytes: Uint8Array }[] = [];
    for (const t of tagged) {
      const v = m[t.f.name];
      if (isDefault(t.f, v)) continue;
      const sub = new Writer(64);
      t.enc(sub, v);
      present.push({ tag: t.tag, bytes: sub.finishCopy() });
    }
    if (unknown) {
      for (const [tag, bytes] of unknown) {
        if (!tagIndex.has(tag)) present.push({ tag, bytes });
      }
      present.sort((a, b) => a.tag - b.tag);
    }
    w.uvarint(present.length);
    for (const p of present) {
      w.uvarint(p.tag);
      w.uvarint(p.bytes.length);
      w.raw(p.bytes);
    }
  };
  const defaulted = [
    ...absent.map((a) => ({ name: a.name, f: a.f })),
    ...tagged.map((t) => ({ name: t.f.name, f: t.f })),
  ];
  const generated = generatedCodec(
    regular,
    defaulted,
    tagged.map((t) => t.f.name),
    flexible,
    decodeTagged,
    encodeTagged,
    known,
  );
  const plan: StructPlan = {
    decodeDefaults(): Loose {
      const m: Loose = {};
      for (const a of absent) m[a.name] = defaultValue(a.f);
      for (const t of tagged) m[t.f.name] = defaultValue(t.f);
      for (const f of regular) {
        const fs = fields.find((x) => x.name === f.name)!;
        m[f.name] = defaultValue(fs);
      }
      return m;
    },
    decode: generated?.decode ?? ((r: Reader): Loose => {
      const m: Loose = {};
      for (let i = 0; i < regular.length; i++) m[regular[i].name] = regular[i].dec(r);
      for (let i = 0; i < defaulted.length; i++) {
        m[defaulted[i].name] = defaultValue(defaulted[i].f);
      }
      return flexible ? decodeTagged(r, m) : m;
    }),
    encode: generated?.encode ?? ((w: Writer, m: Loose): void => {
      if (strictEncoding) checkKeys(m, known);
      for (let i = 0; i < regular.length; i++) {
        const f = regular[i];
        const v = m[f.name];
        f.enc(w, v === undefined ? f.def : v);
      }
      if (flexible) encodeTagged(w, m);
    }),
  };
  byVersion.set(key, plan);
  return plan;
}

/** True when every tagged field of `m` is at its default (and so is not written). */
function noneTagged(tagged: readonly { f: FieldSchema }[], m: Loose): boolean {
  for (let i = 0; i < tagged.length; i++) {
    if (!isDefault(tagged[i].f, m[tagged[i].f.name])) return false;
  }
  return true;
}

/** Field names that may be written into generated code as they are. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A struct's decode and encode as code generated for its fields: each struct gets its own
 * function, so its property loads and stores see one shape and stay monomorphic, where the
 * one generic loop shared by every struct goes megamorphic (most of the cost of decoding and
 * encoding a many-partition Fetch). Decoding builds the object in one literal, fields in the
 * order the generic loop sets them. Null (the generic loop is used) when a field name is no
 * plain identifier or the runtime refuses code generation.
 */
function generatedCodec(
  regular: readonly { name: string; dec: Dec; enc: Enc; def: unknown }[],
  defaulted: readonly { name: string; f: FieldSchema }[],
  taggedNames: readonly string[],
  flexible: boolean,
  decodeTagged: (r: Reader, m: Loose) => Loose,
  encodeTagged: (w: Writer, m: Loose) => void,
  known: Set<string>,
): CompiledStruct | null {
  const names = [...regular.map((f) => f.name), ...defaulted.map((f) => f.name)];
  if (!names.every((n) => IDENTIFIER.test(n)) || new Set(names).size !== names.length) {
    return null;
  }
  const params: string[] = [];
  const args: unknown[] = [];
  const param = (v: unknown): string => {
    params.push(`p${params.length}`);
    args.push(v);
    return params[params.length - 1];
  };
  const props = regular.map((f) => `${f.name}: ${param(f.dec)}(r)`);
  for (const d of defaulted) {
    // A default array is a fresh one per message (handlers may fill it in).
    const v = defaultValue(d.f);
    props.push(`${d.name}: ${Array.isArray(v) ? "[]" : param(v)}`);
  }
  const tail = flexible ? `${param(decodeTagged)}(r, m)` : "m";
  const decodeSrc = `return function decode(r) {\n  const m = { ${
    props.join(", ")
  } };\n  return ${tail};\n};`;
  const strict = param(() => strictEncoding);
  const check = param((m: Loose) => checkKeys(m, known));
  const writes = regular.map((f) => {
    const def = param(f.def);
    return `  v = m.${f.name};\n  ${param(f.enc)}(w, v === undefined ? ${def} : v);`;
  });
  // Structs with no tagged field set (most, e.g. every partition of a Fetch answer) are told
  // apart here, by property loads of their own shape, before the general tagged-field path.
  const unset = [UNKNOWN_TAGS, ...taggedNames].map((n) => `m.${n} === undefined`).join(" && ");
  const taggedTail = `  if (${unset}) w.uvarint(0);\n  else ${param(encodeTagged)}(w, m);\n`;
  const encodeSrc = `return function encode(w, m) {\n  if (${strict}()) ${check}(m);\n  let v;\n${
    writes.join("\n")
  }\n${flexible ? taggedTail : ""}};`;
  try {
    return {
      decode: new Function(...params, decodeSrc)(...args),
      encode: new Function(...params, encodeSrc)(...args),
    };
  } catch {
    return null;
  }
}

// deno-lint-ignore no-explicit-any
const codecCache = new WeakMap<MessageSchema, Map<number, Codec<any>>>();

/**
 * The compiled codec of `schema` at `version` (cached), typed by the schema's generated type:
 * `codecFor(MetadataResponse, 12).decode(r)` is a `MetadataResponse`.
 */
export function codecFor<T>(schema: MessageSchema<T>, version: number): Codec<T> {
  let byVersion = codecCache.get(schema);
  if (!byVersion) codecCache.set(schema, byVersion = new Map());
  const cached = byVersion.get(version);
  if (cached) return cached;
  if (!hasVersion(schema, version)) {
    throw new ProtocolError(`${schema.name} has no version ${version}`);
  }
  const flexible = isFlexible(schema, version);
  const plan = compileStruct(schema.fields, version, flexible);
  // The plan walks any message; the schema's type is what it decodes to and encodes from.
  const c = { schema, version, flexible, decode: plan.decode, encode: plan.encode } as Codec<T>;
  byVersion.set(version, c);
  return c;
}

/** Decodes a whole message body; trailing bytes are an error. */
export function decodeMessage<T>(schema: MessageSchema<T>, version: number, buf: Uint8Array): T {
  const r = new Reader(buf);
  const m = codecFor(schema, version).decode(r);
  if (r.remaining !== 0) {
    throw new ProtocolError(`${schema.name} v${version}: ${r.remaining} trailing bytes`);
  }
  return m;
}

/** Encodes a message into a fresh buffer (tests, small messages). */
export function encodeMessage<T>(
  schema: MessageSchema<T>,
  version: number,
  m: Encodable<T>,
): Uint8Array {
  const w = new Writer();
  codecFor(schema, version).encode(w, m);
  return w.finishCopy();
}

/** A message with every field at its default for `version`: a base for building responses. */
export function defaults<T>(schema: MessageSchema<T>, version: number): T {
  return compileStruct(schema.fields, version, isFlexible(schema, version)).decodeDefaults() as T;
}
