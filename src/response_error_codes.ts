/**
 * Every non-zero `errorCode` in a response body (top level and nested per-topic/partition
 * entries), for the errors-by-code metric. The walk follows only the fields of the response's
 * schema that lead to an `errorCode`, compiled once per schema: walking every key of every
 * entry instead cost a large share of an empty many-partition Fetch (record bytes, strings
 * and the other numbers are never visited).
 */
import type { FieldSchema, MessageSchema } from "../protocol/schema.ts";

type Walk = (v: unknown, out: number[]) => void;

/** How deep the walk goes (the body is depth 0; an array and its entries add one each). */
const MAX_DEPTH = 6;

const walks = new WeakMap<MessageSchema, Walk>();

export function responseErrorCodes(schema: MessageSchema, body: unknown): number[] {
  let walk = walks.get(schema);
  if (!walk) walks.set(schema, walk = structWalk(schema.fields, 0) ?? (() => {}));
  const out: number[] = [];
  walk(body, out);
  return out;
}

/** The walk of a struct at `depth`, or null when nothing under it is an error code. */
function structWalk(fields: readonly FieldSchema[], depth: number): Walk | null {
  if (depth > MAX_DEPTH) return null;
  let code = false;
  const subs: { name: string; walk: Walk }[] = [];
  for (const f of fields) {
    if (!f.fields) {
      if (f.name === "errorCode") code = true;
      continue;
    }
    const isArray = f.type.startsWith("[]");
    const inner = structWalk(f.fields, depth + (isArray ? 2 : 1));
    if (inner) subs.push({ name: f.name, walk: isArray ? arrayWalk(inner) : inner });
  }
  if (!code && subs.length === 0) return null;
  return (v, out) => {
    if (v === null || typeof v !== "object") return;
    const m = v as Record<string, unknown>;
    if (code) {
      const c = m.errorCode;
      if (typeof c === "number" && c !== 0) out.push(c);
    }
    for (let i = 0; i < subs.length; i++) subs[i].walk(m[subs[i].name], out);
  };
}

function arrayWalk(entry: Walk): Walk {
  return (v, out) => {
    if (!Array.isArray(v)) return;
    for (let i = 0; i < v.length; i++) entry(v[i], out);
  };
}
