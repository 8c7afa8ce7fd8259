/**
 * SMTP alerts on state changes, as keepalived 2.2.7 sends them (docs/keepalived-behaviour.md 4.3; read from its
 * smtp.c, vrrp_notify.c, global_parser.c and global_data.c, and checked against the running
 * keepalived 2.2.7 with a real SMTP server).
 *
 * When: an instance or sync group whose `smtp_alert` is on enters MASTER, BACKUP or FAULT (or
 * STOP, or DELETED with `notify_deleted`), and its last mail was not already about that state.
 * A deleted instance without `notify_deleted` is reported as FAULT (as its notify scripts are).
 * With `no_email_faults`, FAULT sends nothing (and does not count as the last mail's state).
 * `MASTER_RX_LOWER_PRI` sends nothing. Sync groups mail their own moves; their members still mail
 * theirs (keepalived sent both, observed). keepalived ignores every mail at daemon stop (its
 * scheduler closes the SMTP sockets while shutting down: the `Stopping` mails never leave, observed),
 * so nothing is queued once the daemon is stopping.
 *
 * Whether at all: only with a `notification_email` address and an `smtp_server` (else nothing,
 * silently, as keepalived). An instance's or group's own `smtp_alert` wins; unset, it takes the
 * global `smtp_alert_vrrp` when that is set, else the global `smtp_alert`, else off (resolved at
 * load, config/completion.ts).
 *
 * What: the envelope is `notification_email_from` to every `notification_email` address; the
 * HELO name is `smtp_helo_name`; the server is `smtp_server IP [PORT]` (port 25 by default). Unset,
 * the sender is `USER@HOST` (the daemon's user and the host's name), the HELO name and `router_id`
 * the host's name. The message, CRLF line ends, exactly these headers in this order, then the body
 * line and an empty line:
 *
 *     Date: Wed, 02 Dec 2026 16:17:29 +0000        (local time, RFC 822 form)
 *     From: vrrpd@x.test
 *     Subject: [R1] VRRP Instance VI_1 - Entering MASTER state
 *     X-Mailer: Keepalived
 *     To: ops@x.test, oncall@y.test
 *
 *     => VRRP Instance is now owning VRRP VIPs <=
 *
 * Subjects are `[ROUTER_ID] VRRP Instance NAME - WHAT` and `[ROUTER_ID] VRRP Group NAME - WHAT`
 * (`MAIL_TEXT` lists WHAT and the bodies). keepalived's sizes are kept: a subject of at most 255
 * characters, a body of at most 511, a To header of at most 1023 (the addresses that fit).
 *
 * How: never on the protocol's path. `notify()` composes the mail and queues it; one worker sends
 * the queue in order, one connection at a time, through the transport the module is given (the
 * daemon's is src/io/smtp-transport.ts; tests give fakes). `smtp_connect_timeout` (default 30 s)
 * bounds the connect and every wait for the server. At most MAIL_QUEUE_BOUND (32) mails wait: one
 * more is dropped and counted, and a line logged (rate-limited). A failed mail is logged
 * (rate-limited) and counted, never retried (keepalived does not retry either), never thrown.
 */
import { userInfo, hostname } from 'node:os';
import type { DeepReadonly, FrozenConfig, GlobalDefs } from '../config/model.js';
import type { Log } from '../log.js';
import { RateLimiter } from '../log.js';
import type { NotifyState } from '../runtime/ports/notifier.js';

/** Mails that may wait behind the one being sent (see the file comment). */
export const MAIL_QUEUE_BOUND = 32;
/** keepalived's default SMTP port. */
export const SMTP_DEFAULT_PORT = 25;

/** Where the mails go (a transport is made for each). */
export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  /** HELO name. */
  readonly helo: string;
  /** Connect timeout and the bound on every wait for the server (ms). */
  readonly timeoutMs: number;
}

/** One alert: the SMTP envelope and the message after DATA (headers, empty line, body). */
export interface AlertMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
  /** The Subject header, for logs and tests. */
  readonly subject: string;
}

export interface MailTransport {
  /** Resolves when the server accepted the mail; rejects with the reason. */
  send(mail: AlertMail): Promise<void>;
  close(): void;
}

export type MailTransportFactory = (target: SmtpTarget) => MailTransport;

export interface SmtpAlertsOptions {
  log: Log;
  /** Makes the transport to the configured server; null: no mail is ever sent. */
  transport: MailTransportFactory | null;
  /** Mails that may wait (default MAIL_QUEUE_BOUND). */
  maxQueued?: number;
  /** Monotonic ms for the log rate limit; default Date.now. */
  nowMs?: () => number;
  /** The Date header's clock; default the system's. */
  date?: () => Date;
  /** The host's name (router_id, HELO and sender defaults); default os.hostname(). */
  localName?: string;
  /** The daemon's user name (sender default); default os.userInfo(). */
  user?: string;
}

export interface SmtpAlertStats {
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  readonly queued: number;
  readonly sending: boolean;
}

/** The WHAT of the subject and the body of each mailed state, instance then group. */
export const MAIL_TEXT: Readonly<Record<'INSTANCE' | 'GROUP', Partial<Record<NotifyState, readonly [string, string]>>>> = {
  INSTANCE: {
    MASTER: ['Entering MASTER state', '=> VRRP Instance is now owning VRRP VIPs <='],
    BACKUP: ['Entering BACKUP state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
    FAULT: ['Entering FAULT state', '=> VRRP Instance is no longer owning VRRP VIPs <='],
    STOP: ['Stopping', '=> VRRP Instance stopping <='],
    DELETED: ['Deleted', '=> VRRP Deleted at reload <='],
  },
  GROUP: {
    MASTER: ['Entering MASTER state', '=> All VRRP group instances are now in MASTER state <='],
    BACKUP: ['Entering BACKUP state', '=> All VRRP group instances are now in BACKUP state <='],
    FAULT: ['Entering FAULT state', '=> All VRRP group instances are now in FAULT state <='],
    STOP: ['Stopping', '=> All VRRP group instances are now stopping <='],
  },
};

/** `smtp_server IP [PORT]` as the config keeps it (the words after the keyword). */
export function parseSmtpServer(text: string | null): { host: string; port: number } | null {
  const words = (text ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const port = words[1] === undefined ? SMTP_DEFAULT_PORT : Number(words[1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: words[0]!, port };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** strftime's `%a, %d %b %Y %H:%M:%S %z` in local time (the Date header keepalived writes). */
export function rfc822Date(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return (
    `${DAYS[d.getDay()]}, ${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${sign}${two(Math.floor(abs / 60))}${two(abs % 60)}`
  );
}

/** The To header's value: the addresses, comma-separated, those that fit in keepalived's 1023 bytes. */
export function toHeader(addrs: readonly string[]): string {
  let out = '';
  for (const a of addrs) {
    const next = out === '' ? a : `${out}, ${a}`;
    if (next.length > 1023) break;
    out = next;
  }
  return out;
}

/** The settings the mails need, from one config. */
interface MailSettings {
  readonly target: SmtpTarget;
  readonly from: string;
  readonly to: readonly string[];
  readonly routerId: string;
  readonly noEmailFaults: boolean;
}

function mailSettings(g: DeepReadonly<GlobalDefs>, localName: string, user: string): MailSettings | null {
  const server = parseSmtpServer(g.smtpServer);
  if (server === null || g.notificationEmail.length === 0) return null;
  return {
    target: { ...server, helo: g.smtpHeloName ?? localName, timeoutMs: g.smtpConnectTimeoutMs },
    from: g.notificationEmailFrom ?? `${user}@${localName}`,
    to: [...g.notificationEmail],
    routerId: g.routerId ?? localName,
    noEmailFaults: g.noEmailFaults,
  };
}

/** Each instance's and group's smtp_alert, resolved from the globals at load (config/completion.ts). */
function alertFlags(cfg: FrozenConfig): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const i of cfg.instances) flags.set(`INSTANCE:${i.name}`, i.smtpAlert);
  for (const sg of cfg.syncGroups) flags.set(`GROUP:${sg.name}`, sg.smtpAlert);
  return flags;
}

/** The daemon's SMTP alerts (see the file comment). */
export class SmtpAlerts {
  readonly #o: SmtpAlertsOptions;
  readonly #rate = new RateLimiter(60_000);
  readonly #localName: string;
  readonly #user: string;
  #settings: MailSettings | null = null;
  #transport: MailTransport | null = null;
  #transportKey = '';
  /** Effective smtp_alert by `TYPE:NAME`; names a reload removed stay one more config (their DELETED). */
  #flags = new Map<string, boolean>();
  #retired = new Map<string, boolean>();
  #notifyDeleted = new Set<string>();
  /** The state each instance/group last mailed about (keepalived's last_email_state). */
  readonly #lastMailed = new Map<string, NotifyState>();
  readonly #queue: AlertMail[] = [];
  #sending: Promise<void> | null = null;
  #stopping = false;
  #sent = 0;
  #failed = 0;
  #dropped = 0;

  constructor(o: SmtpAlertsOptions) {
    this.#o = o;
    this.#localName = o.localName ?? hostname();
    this.#user = o.user ?? safeUser();
  }

  /** Take a (new) config: server, addresses, texts' router_id, each instance's and group's smtp_alert. */
  configure(cfg: FrozenConfig): void {
    this.#settings = mailSettings(cfg.global, this.#localName, this.#user);
    const flags = alertFlags(cfg);
    this.#retired = new Map([...this.#flags].filter(([k]) => !flags.has(k)));
    this.#flags = flags;
    this.#notifyDeleted = new Set([
      ...[...this.#notifyDeleted].filter((k) => this.#retired.has(k)),
      ...cfg.instances.filter((i) => i.notify.deleted !== undefined).map((i) => `INSTANCE:${i.name}`),
    ]);
    for (const k of this.#lastMailed.keys()) if (!flags.has(k) && !this.#retired.has(k)) this.#lastMailed.delete(k);
    const key = this.#settings === null ? '' : JSON.stringify(this.#settings.target);
    if (key !== this.#transportKey) {
      // The queued mails go to the old server: the transport in use finishes its mail first.
      const old = this.#transport;
      if (old !== null) void (this.#sending ?? Promise.resolve()).then(() => old.close());
      this.#transport = this.#settings !== null && this.#o.transport !== null ? this.#o.transport(this.#settings.target) : null;
      this.#transportKey = key;
    }
  }

  /** A state change of an instance or group: a mail queued when keepalived would send one. Never throws. */
  notify(type: 'INSTANCE' | 'GROUP', name: string, state: NotifyState): void {
    const s = this.#settings;
    if (s === null || this.#transport === null || this.#stopping) return;
    const key = `${type}:${name}`;
    if (!(this.#flags.get(key) ?? this.#retired.get(key) ?? false)) return;
    const st: NotifyState = state === 'DELETED' && !this.#notifyDeleted.has(key) ? 'FAULT' : state;
    if (st === 'FAULT' && s.noEmailFaults) return;
    const text = MAIL_TEXT[type][st];
    if (text === undefined || this.#lastMailed.get(key) === st) return;
    this.#lastMailed.set(key, st);
    this.#enqueue(this.#compose(s, type, name, text));
  }

  #compose(s: MailSettings, type: 'INSTANCE' | 'GROUP', name: string, [what, body]: readonly [string, string]): AlertMail {
    const subject = `[${s.routerId}] VRRP ${type === 'INSTANCE' ? 'Instance' : 'Group'} ${name} - ${what}`.slice(0, 255);
    const date = rfc822Date((this.#o.date ?? (() => new Date()))());
    const raw =
      `Date: ${date}\r\nFrom: ${s.from}\r\nSubject: ${subject}\r\nX-Mailer: Keepalived\r\nTo: ${toHeader(s.to)}\r\n\r\n` +
      `${body.slice(0, 511)}\r\n\r\n`;
    return { from: s.from, to: s.to, raw, subject };
  }

  #enqueue(mail: AlertMail): void {
    if (this.#queue.length >= (this.#o.maxQueued ?? MAIL_QUEUE_BOUND)) {
      this.#dropped++;
      this.#logLimited('drop', 'warn', `SMTP alert dropped: ${this.#queue.length} mails already waiting (${mail.subject})`);
      return;
    }
    this.#queue.push(mail);
    this.#sending ??= this.#drain();
  }

  async #drain(): Promise<void> {
    for (let mail = this.#queue.shift(); mail !== undefined; mail = this.#queue.shift()) {
      const t = this.#transport;
      const where = this.#where();
      if (t === null) break;
      try {
        await t.send(mail);
        this.#sent++;
        this.#o.log.debug({ subject: mail.subject }, 'SMTP alert successfully sent.');
      } catch (e) {
        this.#failed++;
        const why = e instanceof Error ? e.message : String(e);
        this.#logLimited('fail', 'warn', `SMTP alert to ${where} failed: ${why} (${mail.subject})`);
      }
    }
    this.#sending = null;
  }

  #where(): string {
    const t = this.#settings?.target;
    return t === undefined ? '?' : `[${t.host}]:${t.port}`;
  }

  #logLimited(key: string, level: 'warn' | 'info', msg: string): void {
    const r = this.#rate.check(key, (this.#o.nowMs ?? Date.now)());
    if (r === null) return;
    this.#o.log[level]({ ...(r.suppressed > 0 ? { suppressed: r.suppressed } : {}) }, msg);
  }

  stats(): SmtpAlertStats {
    return { sent: this.#sent, failed: this.#failed, dropped: this.#dropped, queued: this.#queue.length, sending: this.#sending !== null };
  }

  /** The daemon is stopping: no mail is queued from now on (keepalived sends none while stopping). */
  stopping(): void {
    this.#stopping = true;
  }

  /** Resolves when the queue is empty and nothing is being sent, or after `maxMs`. */
  async idle(maxMs: number): Promise<void> {
    const p = this.#sending;
    if (p === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, maxMs)))]);
    clearTimeout(timer);
  }

  /** Stop: the waiting mails are dropped, the transport closed. */
  close(): void {
    this.#stopping = true;
    this.#queue.length = 0;
    this.#transport?.close();
    this.#transport = null;
    this.#transportKey = '';
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'root');
  }
}
