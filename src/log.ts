/**
 * The logger lives in storage/ so the log layer can use it without importing
 * from src/; broker code keeps importing it from here.
 */
export { log, setLogLevel, setLogPrefix, setLogSink } from "../storage/logger.ts";
