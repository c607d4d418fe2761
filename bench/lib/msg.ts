/** A loose message shape: benchmarks build and read messages without the generated types. */
// deno-lint-ignore no-explicit-any
export type Msg = Record<string, any>;
