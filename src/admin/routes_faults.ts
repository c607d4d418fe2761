/**
 * Fault injection routes of the admin API (src/faults.ts), for testing clients against
 * failures; every route answers 403 FAULT_INJECTION_DISABLED unless the broker runs with
 * `--dev` or `tributary.fault.injection.enable=true`:
 *
 *   GET    /v1/faults                    the faults in force
 *   POST   /v1/faults                    push a request fault {api|apiKey, count, errorCode,
 *                                        delayMs, topic?, partition?}
 *   DELETE /v1/faults                    clear every fault (and end a hang)
 *   POST   /v1/faults/drop-connections   drop every connection now, or {next: N} the next N
 *   POST   /v1/faults/hang               stop answering requests for {ms}
 */
import {
  FaultInjectionDisabledError,
  type FaultInjector,
  FaultSpecError,
  type RequestFaultSpec,
} from "../faults.ts";
import { asObject, badRequest, type Context, Hono, HttpError, jsonBody } from "./http.ts";

/** What the fault routes need of the broker. */
export interface FaultsHost {
  readonly faults: FaultInjector;
}

/**
 * Runs a fault change, turning the injector's refusals into HTTP errors; answers once every
 * worker knows of it.
 */
async function apply<T>(faults: FaultInjector, f: () => T | Promise<T>): Promise<T> {
  try {
    const r = await f();
    await faults.propagated();
    return r;
  } catch (e) {
    if (e instanceof FaultInjectionDisabledError) {
      throw new HttpError(403, "FAULT_INJECTION_DISABLED", e.message);
    }
    if (e instanceof FaultSpecError) throw badRequest(e.message);
    throw e;
  }
}

const optional = (o: Record<string, unknown>, k: string, type: "string" | "number") => {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  const ok = type === "string" ? typeof v === "string" : typeof v === "number";
  if (!ok) throw badRequest(`${k} must be a ${type}`);
  return v as never;
};

/** A request fault from its JSON body. */
function parseSpec(body: unknown): RequestFaultSpec {
  const o = asObject(body, "the fault");
  const known = new Set(["api", "apiKey", "count", "errorCode", "delayMs", "topic", "partition"]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw badRequest(`unknown field ${k}`);
  const errorCode = o.errorCode;
  if (errorCode !== undefined && typeof errorCode !== "number" && typeof errorCode !== "string") {
    throw badRequest("errorCode must be a Kafka error code or name");
  }
  return {
    api: optional(o, "api", "string"),
    apiKey: optional(o, "apiKey", "number"),
    count: optional(o, "count", "number"),
    errorCode: errorCode as number | string | undefined,
    delayMs: optional(o, "delayMs", "number"),
    topic: optional(o, "topic", "string"),
    partition: optional(o, "partition", "number"),
  };
}

/** An optional JSON object body: none at all is `{}`. */
async function optionalBody(c: Context): Promise<Record<string, unknown>> {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") return {};
  return asObject(await jsonBody(c), "the request body");
}

export function faultRoutes(broker: FaultsHost): Hono {
  const app = new Hono();
  const faults = broker.faults;
  app.use("*", async (_c, next) => {
    if (!faults.enabled) {
      throw new HttpError(
        403,
        "FAULT_INJECTION_DISABLED",
        new FaultInjectionDisabledError().message,
      );
    }
    await next();
  });

  app.get("/", (c) => {
    return c.json(faults.list());
  });

  app.post("/", async (c) => {
    const spec = parseSpec(await jsonBody(c));
    return c.json(await apply(faults, () => faults.push(spec)), 201);
  });

  app.delete("/", async (c) => {
    await apply(faults, () => faults.clear());
    return c.json(faults.list());
  });

  app.post("/drop-connections", async (c) => {
    const o = await optionalBody(c);
    const next = optional(o, "next", "number") as number | undefined;
    const dropped = await apply(faults, () => faults.dropConnections({ next }));
    return c.json({ dropped, dropNextConnections: faults.list().dropNextConnections });
  });

  app.post("/hang", async (c) => {
    const o = asObject(await jsonBody(c), "the request body");
    const ms = optional(o, "ms", "number") as number | undefined;
    if (ms === undefined) throw badRequest("ms (how long to stop answering) is required");
    await apply(faults, () => faults.hang(ms));
    return c.json(faults.list());
  });

  return app;
}
