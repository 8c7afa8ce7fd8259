/**
 * The logger shape io/ adapters accept: the subset of pino's Logger they call, so io/ does not
 * import the root logger (src/log.ts passes `log.child({component: 'io'})`).
 */
export interface IoLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export const silentLogger: IoLogger = {
  warn() {},
  debug() {},
};
