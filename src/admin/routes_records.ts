/**
 * Record routes of the admin API (mounted under /v1/topics beside the topic routes):
 *
 *   POST /v1/topics/{name}/records          produce one record {partition?, key, value,
 *                                           headers, timestamp?} (through Produce)
 *   GET  /v1/topics/{name}/records/search   bounded search ?partition=&offset=|timestamp=
 *                                           &key=&value=&limit=&maxRecords=&maxBytes=&timeoutMs=
 */
import { adminSessionOf } from "./admin_auth.ts";
import type { AdminHost } from "./admin_host.ts";
import { type Context, Hono, HttpError, intParam, jsonBody } from "./http.ts";
import { parseProduceBody, produceRecord } from "./produce.ts";
import { SEARCH_DEFAULTS, SEARCH_LIMITS, searchRecords } from "./record_search.ts";

function optionalInt(c: Context, name: string, min: number, max: number): number | null {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return null;
  return intParam(raw, name, 0, min, max);
}

function optionalText(c: Context, name: string): string | null {
  const v = c.req.query(name);
  return v === undefined || v === "" ? null : v;
}

export function recordRoutes(broker: AdminHost): Hono {
  const app = new Hono();

  app.post("/:name/records", async (c) => {
    const name = c.req.param("name");
    const input = parseProduceBody(await jsonBody(c));
    return c.json(await produceRecord(broker, name, input, adminSessionOf(c)));
  });

  app.get("/:name/records/search", async (c) => {
    const name = c.req.param("name");
    const t = broker.topic(name);
    if (!t) throw new HttpError(404, "UNKNOWN_TOPIC_OR_PARTITION", `unknown topic '${name}'`);
    const partition = optionalInt(c, "partition", 0, 2147483647);
    if (partition !== null && partition >= t.partitions) {
      throw new HttpError(
        404,
        "UNKNOWN_TOPIC_OR_PARTITION",
        `topic '${name}' has ${t.partitions} partition(s); there is no partition ${partition}`,
      );
    }
    const limit = (k: keyof typeof SEARCH_LIMITS) =>
      intParam(c.req.query(k), k, SEARCH_DEFAULTS[k], 1, SEARCH_LIMITS[k]);
    return c.json(
      await searchRecords(broker, {
        topic: name,
        partitions: partition !== null
          ? [partition]
          : Array.from({ length: t.partitions }, (_, i) => i),
        offset: optionalInt(c, "offset", 0, Number.MAX_SAFE_INTEGER),
        timestamp: optionalInt(c, "timestamp", 0, Number.MAX_SAFE_INTEGER),
        key: optionalText(c, "key"),
        value: optionalText(c, "value"),
        limit: limit("limit"),
        maxRecords: limit("maxRecords"),
        maxBytes: limit("maxBytes"),
        timeoutMs: limit("timeoutMs"),
      }),
    );
  });

  return app;
}
