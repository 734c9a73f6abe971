/** The logger the server writes to: any pino-style logger, or none. */

/** pino-compatible: `logger.warn({ hash, err }, 'message')`. */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const noop = (): void => {};
export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop };
