/**
 * The one place the admin API imports Hono from: a single pinned version for every module.
 */
// npm packages are imported by npm: specifier (the project keeps no import map).
export { type Context, Hono } from "npm:hono@4.13.19";
export type { ContentfulStatusCode } from "npm:hono@4.13.19/utils/http-status";
export { getCookie, setCookie } from "npm:hono@4.13.19/cookie";
