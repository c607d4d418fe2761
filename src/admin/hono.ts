/**
 * The one place the admin API imports Hono from: a single pinned version for every module.
 */
export { type Context, Hono } from "hono";
export type { ContentfulStatusCode } from "hono/utils/http-status";
export { getCookie, setCookie } from "hono/cookie";
