/**
 * The logging contract every module writes to: a level, a message in the operator's words, and structured fields
 * (the typed event, the instance, …) that JSON logs, metrics and the API carry. The real writer (plain lines in
 * keepalived's wording, or JSON) is the daemon's; tests keep records in memory.
 */

/** Log levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Where log records go. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/** One record kept by {@link memoryLogger}. */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps records in memory (tests, the simulator). */
export function memoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, log: (level, msg, fields = {}) => records.push({ level, msg, fields }) };
}
