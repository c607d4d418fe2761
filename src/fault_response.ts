/**
 * The response an injected fault answers with: built from the API's schemas alone, so every
 * API in the registry gets one without a per-API table. As librdkafka's mock broker does,
 * the error goes where clients look: the top-level errorCode when the version has one, and
 * every errorCode of the entries that mirror what the request named (a Produce's partitions,
 * a Metadata's topics, a DescribeGroups' groups, a FindCoordinator v4's keys). The request is
 * not handled: nothing is appended, joined or committed.
 *
 * Mirroring pairs the i-th array of a response struct that holds an errorCode somewhere
 * below it with the i-th array of the request struct (Produce's topicData → responses,
 * partitionData → partitionResponses); each mirrored entry takes the request entry's keys
 * (a field of the same name and type, else the first field of that type: Fetch's
 * `partition` → `partitionIndex`), and a string or int32 array of the request (group ids,
 * partition indexes) gives one entry per value.
 */
import { type FieldSchema, type MessageSchema, parseVersions } from "../protocol/schema.ts";

type Loose = Record<string, unknown>;

/** The types of fields that identify an entry (names, ids, indexes), copied to its mirror. */
const KEY_TYPES = new Set(["string", "int32", "uuid"]);

function inVersion(f: FieldSchema, version: number): boolean {
  const [lo, hi] = parseVersions(f.versions);
  return version >= lo && version <= hi;
}

const fieldsAt = (fields: FieldSchema[] | undefined, version: number) =>
  (fields ?? []).filter((f) => inVersion(f, version));

const isStructArray = (f: FieldSchema) => f.type.startsWith("[]") && f.fields !== undefined;
const isKeyArray = (f: FieldSchema) =>
  f.type === "[]string" || f.type === "[]int32" || f.type === "[]uuid";

/** An error code field: `errorCode`, or a named one (AddPartitionsToTxn's `partitionErrorCode`). */
const isErrorField = (f: FieldSchema) =>
  f.type === "int16" && (f.name === "errorCode" || f.name.endsWith("ErrorCode"));

const isErrorKey = (k: string) => k === "errorCode" || k.endsWith("ErrorCode");

/** Whether a response field (a struct array) holds an errorCode at any depth. */
function carriesError(f: FieldSchema, version: number): boolean {
  for (const s of fieldsAt(f.fields, version)) {
    if (isErrorField(s)) return true;
    if (isStructArray(s) && carriesError(s, version)) return true;
  }
  return false;
}

/** Sets errorCode (and errorMessage, where the struct has one) on a response struct. */
function setError(
  out: Loose,
  fields: FieldSchema[],
  errorCode: number,
  message: string,
): boolean {
  let set = false;
  for (const f of fields) {
    if (isErrorField(f)) {
      out[f.name] = errorCode;
      set = true;
    }
  }
  if (set && fields.some((f) => f.name === "errorMessage" && f.type === "string")) {
    out.errorMessage = message;
  }
  return set;
}

/** The response entry mirroring one request entry (a struct, or a key of a key array). */
function mirrorEntry(
  respFields: FieldSchema[],
  reqFields: FieldSchema[] | null,
  entry: unknown,
  entryType: string,
  version: number,
  errorCode: number,
  message: string,
): Loose {
  const out: Loose = {};
  if (reqFields === null) {
    // A key array's value: the first response field of its type takes it.
    const key = respFields.find((f) => f.type === entryType);
    if (key) out[key.name] = entry;
  } else {
    const req = entry as Loose;
    for (const f of respFields) {
      if (!KEY_TYPES.has(f.type) || f.name === "errorMessage") continue;
      const same = reqFields.find((r) => r.name === f.name && r.type === f.type);
      const firstOfType = respFields.find((x) => x.type === f.type) === f
        ? reqFields.find((r) => r.type === f.type)
        : undefined;
      const from = same ?? firstOfType;
      if (from && req[from.name] !== undefined) out[f.name] = req[from.name];
    }
  }
  setError(out, respFields, errorCode, message);
  if (reqFields !== null) {
    mirrorArrays(out, respFields, reqFields, entry as Loose, version, errorCode, message);
  }
  return out;
}

/** Fills `out`'s error-carrying arrays from the request struct's arrays, pairing them in order. */
function mirrorArrays(
  out: Loose,
  respFields: FieldSchema[],
  reqFields: FieldSchema[],
  req: Loose,
  version: number,
  errorCode: number,
  message: string,
): void {
  const respArrays = respFields.filter((f) => isStructArray(f) && carriesError(f, version));
  const reqArrays = reqFields.filter((f) => isStructArray(f) || isKeyArray(f));
  respArrays.forEach((ra, i) => {
    const qa = reqArrays.find((q) => q.name === ra.name) ?? reqArrays[i];
    const values = qa ? req[qa.name] : undefined;
    if (!Array.isArray(values)) return;
    const sub = fieldsAt(ra.fields, version);
    const subReq = qa.fields ? fieldsAt(qa.fields, version) : null;
    out[ra.name] = values.map((v) =>
      mirrorEntry(sub, subReq, v, qa.type.slice(2), version, errorCode, message)
    );
  });
}

/**
 * The response body failing `request` (decoded at `version`) with `errorCode`, or null when
 * the response has no errorCode anywhere this request reaches.
 */
export function faultResponse(
  requestSchema: MessageSchema,
  responseSchema: MessageSchema,
  version: number,
  request: Loose,
  errorCode: number,
  message = "injected fault",
): Loose | null {
  const out: Loose = {};
  const respFields = fieldsAt(responseSchema.fields, version);
  setError(out, respFields, errorCode, message);
  mirrorArrays(
    out,
    respFields,
    fieldsAt(requestSchema.fields, version),
    request,
    version,
    errorCode,
    message,
  );
  return containsError(out, errorCode) ? out : null;
}

/** Whether `errorCode` is set anywhere in a built response body. */
export function containsError(v: unknown, errorCode: number): boolean {
  if (Array.isArray(v)) return v.some((x) => containsError(x, errorCode));
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return false;
  return Object.entries(v as Loose).some(([k, x]) =>
    isErrorKey(k) ? x === errorCode : containsError(x, errorCode)
  );
}
