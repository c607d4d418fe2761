/** A loose message shape: tests inspect decoded responses freely, field by field. */
// deno-lint-ignore no-explicit-any
export type Msg = Record<string, any>;
