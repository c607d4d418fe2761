/**
 * Fills the fields a request body leaves out with the defaults Kafka's JSON declares for them,
 * at the version being sent. The codec writes an absent int32 as 0, but fields such as
 * currentLeaderEpoch or generationId mean "unknown" only as -1, so a request must carry its
 * declared defaults to mean what a stock client means.
 */
import type { Encodable, FieldSchema, MessageSchema } from "../../protocol/schema.ts";

/** A request body as this filler walks it, whatever its message type. */
type Body = Record<string, unknown>;

function defaultOf(f: FieldSchema): unknown {
  const d = f.default;
  if (f.type.startsWith("[]")) return d === "null" ? null : [];
  switch (f.type) {
    case "bool":
      return d === "true";
    case "string":
      return d === "null" ? null : (d ?? "");
    case "bytes":
    case "records":
      return d === "null" ? null : new Uint8Array(0);
    case "uuid":
      return "AAAAAAAAAAAAAAAAAAAAAA";
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "int64":
    case "float64":
      return d === undefined || d === "" ? 0 : Number(d);
    default:
      return d === "null" ? null : fill(f.fields ?? [], {});
  }
}

function fill(fields: FieldSchema[], m: Body): Body {
  const out: Body = { ...m };
  for (const f of fields) {
    const v = out[f.name];
    if (v === undefined) {
      out[f.name] = defaultOf(f);
    } else if (f.fields && Array.isArray(v)) {
      out[f.name] = v.map((e) => fill(f.fields!, e as Body));
    } else if (f.fields && v !== null && typeof v === "object" && !(v instanceof Uint8Array)) {
      out[f.name] = fill(f.fields, v as Body);
    }
  }
  return out;
}

/** `body` with every missing field, at any depth, set to its schema default. */
export function withDefaults<T>(schema: MessageSchema<T>, body: Encodable<T>): Encodable<T> {
  return fill(schema.fields, body as Body) as Encodable<T>;
}
