/**
 * The logger lives in storage/ so the log layer can use it without importing
 * from src/; broker code keeps importing it from here.
 */
export { log, setLogLevel, setLogPrefix, setLogSink } from "../storage/logger.ts";

/** An error's message for a log line (anything thrown, not only Errors). */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
