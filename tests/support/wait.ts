/**
 * Waiting for something to become true, shared by every test that polls the broker or a
 * client. The timeout is a safety net so a broken test fails instead of hanging: it is not
 * a statement about speed, so it is generous and tests should not tune it down.
 */

/** How long a wait may take before the test fails rather than hangs. */
export const SAFETY_TIMEOUT_MS = 60_000;

export interface WaitOptions {
  /** Fail after this long; only raise it for waits that legitimately take longer. */
  timeoutMs?: number;
  /** Pause between polls. */
  intervalMs?: number;
}

function options(o: number | WaitOptions | undefined): Required<WaitOptions> {
  const given = typeof o === "number" ? { timeoutMs: o } : (o ?? {});
  return {
    timeoutMs: Math.max(given.timeoutMs ?? SAFETY_TIMEOUT_MS, SAFETY_TIMEOUT_MS),
    intervalMs: given.intervalMs ?? 20,
  };
}

function describe(what: string | (() => string)): string {
  return typeof what === "function" ? what() : what;
}

/**
 * Polls `cond` until it returns a value other than `undefined`, `null` or `false`, and
 * returns that value. A `cond` that throws is retried; its last error is reported if the
 * wait gives up. `what` names the awaited state (a function to describe it lazily, with
 * whatever was observed last).
 */
export function until<T>(
  what: string | (() => string),
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts?: number | WaitOptions,
): Promise<T> {
  return poll(what, cond, options(opts), true);
}

async function poll<T>(
  what: string | (() => string),
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs, intervalMs }: Required<WaitOptions>,
  retryErrors: boolean,
): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (true) {
    try {
      const v = await cond();
      if (v !== undefined && v !== null && v !== false) return v;
      last = undefined;
    } catch (e) {
      if (!retryErrors) throw e;
      last = e;
    }
    if (Date.now() - started > timeoutMs) {
      const cause = last === undefined ? "" : `; last error: ${last}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe(what)}${cause}`, {
        cause: last,
      });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls `cond` until it is true (see `until`); an error thrown by `cond` fails at once. */
export async function waitFor(
  what: string | (() => string),
  cond: () => boolean | Promise<boolean>,
  opts?: number | WaitOptions,
): Promise<void> {
  await poll(what, async () => (await cond()) || undefined, options(opts), false);
}
