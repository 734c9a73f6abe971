/**
 * The server's log, through pino: JSON lines for log collectors, or one
 * readable line per entry for a terminal (the default when stderr is one).
 * Both go to stderr; stdout carries only what `serve` reports for people and
 * scripts (the "listening on" line).
 */
import { pino, type Logger as PinoLogger } from 'pino';

export type LogFormat = 'pretty' | 'json';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Writable {
  write(text: string): unknown;
}

export function createLogger(options: { level: LogLevel; format: LogFormat; out: Writable }): PinoLogger {
  const destination = options.format === 'json' ? options.out : prettyStream(options.out);
  return pino({ level: options.level, base: null, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Formats pino's JSON lines as `12:00:01 WARN incorrect password peer=127.0.0.1:5555`. */
export function prettyStream(out: Writable): Writable {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return out.write(line);
      }
      const { level, time, msg, err, ...fields } = entry;
      const clock = typeof time === 'string' ? time.slice(11, 19) : '';
      const parts = [clock, (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5), String(msg ?? '')];
      for (const [k, v] of Object.entries(fields)) parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
      if (err !== null && typeof err === 'object') parts.push(`error: ${String((err as { message?: unknown }).message)}`);
      return out.write(`${parts.join(' ')}\n`);
    },
  };
}

export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}
