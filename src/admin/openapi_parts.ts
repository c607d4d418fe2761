/** The building blocks the OpenAPI document's parts share (openapi.ts, openapi_records.ts). */

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Schema, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
export const error = (description: string) => json(ref("Error"), description);

export const topicName = {
  name: "name",
  in: "path",
  required: true,
  description: "Topic name",
  schema: { type: "string" },
};
export const int = { type: "integer" };
export const str = { type: "string" };
export const nullableStr = { type: ["string", "null"] };
export const encoding = { type: ["string", "null"], enum: ["utf8", "base64", null] };
