/**
 * The root logger (DESIGN.md style 9). Three formats (`--log-format`):
 *  - json: pino on stdout, one object per line, fixed keys `level`, `time` (ISO 8601), `pid`, `msg`
 *    = the keepalived-style text, and `instance`, `vrid`, `state`, `reason` where they apply;
 *  - console (`--log-console`, keepalived's `-l`): human lines `<ctime>: <msg>` on stderr, the text
 *    users grep ("(VI_1) Entering MASTER STATE", "Netlink reports eth0 down");
 *  - journal: `<N>msg` lines, N the syslog priority (error 3, warn 4, info 6, debug 7), which
 *    journald reads from a stream as the line's PRIORITY (sd-daemon(3)), so `journalctl -p warning`
 *    and `-o json` work; no timestamp (journald has its own). The default when the output stream is
 *    journald's (`JOURNAL_STREAM` names its device and inode: `journalStreamFd`).
 * keepalived's detail lines (its `-D`) are our `debug` level. Secrets never reach a line: fields
 * named like a password are censored, and the runtime never passes config objects to the logger.
 */
import { pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'console' | 'journal';
export type LogFields = Readonly<Record<string, unknown>>;

/** What every component logs through. `msg` is the greppable text; `fields` are structured extras. */
export interface Log {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(bindings: LogFields): Log;
}

export interface LogOptions {
  /** Human console lines instead of JSON (= format 'console'). */
  console?: boolean;
  /** The format; wins over `console`. */
  format?: LogFormat;
  /** keepalived -D: include the detail (debug) lines. */
  detail?: boolean;
  /** Where lines go (tests); default stdout for JSON, stderr for console lines. */
  write?: (line: string) => void;
  /** Wall clock for console timestamps (tests fix it); default the system's. */
  now?: () => Date;
}

/** Field names censored in every line (defence in depth: the runtime never logs config objects). */
export const REDACTED_KEYS: readonly string[] = ['authPass', 'auth_pass', 'password', 'authData', 'auth_data'];

const LEVELS: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };
/** syslog priorities (sd-daemon `<N>` prefixes). */
const PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

function censor(fields: LogFields): LogFields {
  let out: Record<string, unknown> | undefined;
  for (const k of REDACTED_KEYS) {
    if (k in fields) {
      out ??= { ...fields };
      out[k] = '[redacted]';
    }
  }
  return out ?? fields;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime %c in the C locale, as keepalived prints with `-l`: `Tue Nov 24 02:25:04 2026`, `Wed Nov  4 ...` (day space-padded). */
export function ctime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/** Text lines: console (`<ctime>: msg`) or journal (`<N>msg`, newlines inside a message folded). */
class ConsoleLog implements Log {
  constructor(
    private readonly min: number,
    private readonly write: (line: string) => void,
    private readonly bindings: LogFields,
    private readonly now: () => Date,
    private readonly journal = false,
  ) {}
  #out(level: LogLevel, msg: string): void {
    if (LEVELS[level] < this.min) return;
    if (this.journal) this.write(`<${PRIORITY[level]}>${msg.replace(/\n/g, ' ')}\n`);
    else this.write(`${ctime(this.now())}: ${msg}\n`);
  }
  debug(_f: LogFields, msg: string): void {
    this.#out('debug', msg);
  }
  info(_f: LogFields, msg: string): void {
    this.#out('info', msg);
  }
  warn(_f: LogFields, msg: string): void {
    this.#out('warn', msg);
  }
  error(_f: LogFields, msg: string): void {
    this.#out('error', msg);
  }
  child(bindings: LogFields): Log {
    return new ConsoleLog(this.min, this.write, { ...this.bindings, ...bindings }, this.now, this.journal);
  }
}

class PinoLog implements Log {
  constructor(private readonly p: pino.Logger) {}
  debug(f: LogFields, msg: string): void {
    this.p.debug(censor(f), msg);
  }
  info(f: LogFields, msg: string): void {
    this.p.info(censor(f), msg);
  }
  warn(f: LogFields, msg: string): void {
    this.p.warn(censor(f), msg);
  }
  error(f: LogFields, msg: string): void {
    this.p.error(censor(f), msg);
  }
  child(bindings: LogFields): Log {
    return new PinoLog(this.p.child(censor(bindings)));
  }
}

/**
 * Which of stdout (1) and stderr (2) is connected to journald: systemd sets `JOURNAL_STREAM` to
 * `DEVICE:INODE` of the stream it gave the service (systemd.exec(5)); a descriptor with the same
 * device and inode is that stream (a redirect in between gives another). null: neither.
 */
export function journalStreamFd(env: string | undefined, stat: (fd: 1 | 2) => { dev: number; ino: number } | null): 1 | 2 | null {
  const m = /^(\d+):(\d+)$/.exec(env ?? '');
  if (m === null) return null;
  for (const fd of [1, 2] as const) {
    const st = stat(fd);
    if (st !== null && st.dev === Number(m[1]) && st.ino === Number(m[2])) return fd;
  }
  return null;
}

/** Build the root logger. */
export function createLog(opts: LogOptions = {}): Log {
  const min = opts.detail ? LEVELS.debug : LEVELS.info;
  const format = opts.format ?? (opts.console ? 'console' : 'json');
  if (format === 'console') {
    const write = opts.write ?? ((l: string) => void process.stderr.write(l));
    return new ConsoleLog(min, write, {}, opts.now ?? (() => new Date()));
  }
  if (format === 'journal') {
    const write = opts.write ?? ((l: string) => void process.stdout.write(l));
    return new ConsoleLog(min, write, {}, opts.now ?? (() => new Date()), true);
  }
  const level = opts.detail ? 'debug' : 'info';
  const dest = opts.write ? { write: (s: string) => opts.write!(s) } : pino.destination({ dest: 1, sync: true });
  const p = pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest,
  );
  return new PinoLog(p);
}

/** A logger that drops everything (tests, tools). */
export const silentLog: Log = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLog;
  },
};

/** A logger that records lines in memory (tests). */
export class MemoryLog implements Log {
  readonly lines: { level: LogLevel; msg: string; fields: LogFields }[];
  constructor(
    private readonly bindings: LogFields = {},
    lines?: { level: LogLevel; msg: string; fields: LogFields }[],
  ) {
    this.lines = lines ?? [];
  }
  #push(level: LogLevel, fields: LogFields, msg: string): void {
    this.lines.push({ level, msg, fields: censor({ ...this.bindings, ...fields }) });
  }
  debug(f: LogFields, msg: string): void {
    this.#push('debug', f, msg);
  }
  info(f: LogFields, msg: string): void {
    this.#push('info', f, msg);
  }
  warn(f: LogFields, msg: string): void {
    this.#push('warn', f, msg);
  }
  error(f: LogFields, msg: string): void {
    this.#push('error', f, msg);
  }
  child(bindings: LogFields): Log {
    return new MemoryLog({ ...this.bindings, ...bindings }, this.lines);
  }
  /** Messages only, optionally filtered by level. */
  messages(level?: LogLevel): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.msg);
  }
}

/**
 * Keys a RateLimiter tracks at most. Today's keys come from finite sets (drop reasons, errno
 * codes, interface x VRID), but an unknown-VRID flood over several interfaces reaches hundreds, and
 * a key that ever carried an address would be unbounded: the cap makes that a log gap, not memory.
 */
export const RATE_LIMIT_MAX_KEYS = 1024;

/**
 * Rate limiting for repeated messages (DESIGN.md style 4; keepalived [HEAD] `log_rate_limited_error`):
 * the first occurrence of a key is logged, then at most one per `windowMs`, carrying how many were
 * suppressed in between.
 *
 * Bounded (DESIGN.md style 11): at most `maxKeys` keys. A new key that finds the table full first
 * forgets keys whose window has passed (their next occurrence would be logged anyway; a suppressed
 * count not yet reported is lost with them); if every key is still inside its window, the new key is
 * suppressed too and counted in `overflowed`: under a flood of distinct keys the log stays at most
 * `maxKeys` lines per window instead of one line per message.
 */
export class RateLimiter {
  /** Ordered by the time each key was last logged (re-inserted when logged). */
  readonly #last = new Map<string, { atMs: number; suppressed: number }>();
  #overflowed = 0;
  constructor(
    private readonly windowMs = 10_000,
    readonly maxKeys = RATE_LIMIT_MAX_KEYS,
  ) {}

  /** Keys tracked now. */
  get size(): number {
    return this.#last.size;
  }

  /** Messages suppressed because the key table was full of keys inside their window. */
  get overflowed(): number {
    return this.#overflowed;
  }

  /** null = suppress this one; otherwise log it, mentioning `suppressed` earlier ones. */
  check(key: string, nowMs: number): { suppressed: number } | null {
    const e = this.#last.get(key);
    if (e !== undefined && nowMs - e.atMs < this.windowMs) {
      e.suppressed++;
      return null;
    }
    if (e === undefined && this.#last.size >= this.maxKeys) {
      for (const [k, v] of this.#last) {
        if (nowMs - v.atMs < this.windowMs) break;
        this.#last.delete(k);
      }
      if (this.#last.size >= this.maxKeys) {
        this.#overflowed++;
        return null;
      }
    }
    const suppressed = e?.suppressed ?? 0;
    this.#last.delete(key);
    this.#last.set(key, { atMs: nowMs, suppressed: 0 });
    return { suppressed };
  }
}
