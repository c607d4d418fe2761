/**
 * A small leveled logger writing one line per event to stderr. Level from
 * `TRIBUTARY_LOG_LEVEL` (debug, info, warn, error, off); default info.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, off: 100 } as const;
type Level = keyof typeof LEVELS;

function envLevel(): number {
  try {
    const v = Deno.env.get("TRIBUTARY_LOG_LEVEL") as Level | undefined;
    return v && v in LEVELS ? LEVELS[v] : LEVELS.info;
  } catch {
    return LEVELS.info;
  }
}

let threshold = envLevel();
const encoder = new TextEncoder();

export function setLogLevel(level: Level): void {
  threshold = LEVELS[level];
}

let prefix = "";

/** Put before every message (a Deno worker names itself: "[worker 1] "). */
export function setLogPrefix(p: string): void {
  prefix = p;
}

/** Where lines go besides stderr (tests capture what was logged). */
let sink: ((level: Level, msg: string) => void) | null = null;

/** Also hands every emitted line's level and message to `fn` (null to stop). */
export function setLogSink(fn: ((level: Level, msg: string) => void) | null): void {
  sink = fn;
}

function emit(level: Level, msg: string): void {
  if (LEVELS[level] < threshold) return;
  sink?.(level, msg);
  const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${prefix}${msg}\n`;
  try {
    Deno.stderr.writeSync(encoder.encode(line));
  } catch {
    // stderr closed: nothing sensible left to do with a log line
  }
}

export const log = {
  debug: (m: string) => emit("debug", m),
  info: (m: string) => emit("info", m),
  warn: (m: string) => emit("warn", m),
  error: (m: string) => emit("error", m),
};
