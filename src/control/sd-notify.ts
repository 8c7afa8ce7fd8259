/**
 * sd_notify(3) without libsystemd: datagrams `KEY=VALUE\n...` to $NOTIFY_SOCKET (a path, or
 * `@name` in the abstract namespace), sent with libc through koffi (node cannot send AF_UNIX
 * datagrams). A no-op when NOTIFY_SOCKET is unset (not started by systemd with Type=notify).
 *
 * The watchdog is fed from the daemon's work queue, not from a bare timer: a ping is pushed on the
 * serialized path every WATCHDOG_USEC/2 and WATCHDOG=1 goes out only once it has run, so a wedged
 * queue (or a blocked event loop) stops the feed and systemd restarts us.
 */
import { UnixDatagramSender } from './native.js';

export interface SdNotifyOptions {
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Datagram sender (tests inject one); default libc through koffi. */
  readonly send?: (path: string, data: Uint8Array) => number;
  /** Called once when a send fails (errno), for a warning. */
  readonly onError?: (errno: number, what: string) => void;
}

export class SdNotify {
  readonly socket: string | undefined;
  /** Watchdog period requested by systemd (ms), or null. */
  readonly watchdogMs: number | null;
  readonly #send: (path: string, data: Uint8Array) => number;
  readonly #onError: ((errno: number, what: string) => void) | undefined;
  #sender: UnixDatagramSender | undefined;
  #timer: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(o: SdNotifyOptions = {}) {
    const env = o.env ?? process.env;
    this.socket = env.NOTIFY_SOCKET || undefined;
    const usec = Number(env.WATCHDOG_USEC);
    const pidOk = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
    this.watchdogMs = Number.isFinite(usec) && usec > 0 && pidOk ? Math.max(1, Math.floor(usec / 1000)) : null;
    this.#onError = o.onError;
    this.#send =
      o.send ??
      ((path, data) => {
        this.#sender ??= new UnixDatagramSender();
        return this.#sender.send(path, data);
      });
  }

  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Send raw `KEY=VALUE` lines; returns whether it was sent. */
  notify(...lines: string[]): boolean {
    if (this.socket === undefined) return false;
    const errno = this.#send(this.socket, Buffer.from(`${lines.join('\n')}\n`, 'utf8'));
    if (errno !== 0 && !this.#warned) {
      this.#warned = true;
      this.#onError?.(errno, lines[0] ?? '');
    }
    return errno === 0;
  }

  ready(status?: string): boolean {
    return this.notify('READY=1', ...(status !== undefined ? [`STATUS=${oneLine(status)}`] : []), `MAINPID=${process.pid}`);
  }

  /** Type=notify-reload wants MONOTONIC_USEC with RELOADING=1 (CLOCK_MONOTONIC, which hrtime is). */
  reloading(): boolean {
    return this.notify('RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, 'STATUS=Reloading configuration');
  }

  stopping(): boolean {
    return this.notify('STOPPING=1', 'STATUS=Stopping');
  }

  status(text: string): boolean {
    return this.notify(`STATUS=${oneLine(text)}`);
  }

  /**
   * Feed the watchdog every half period once `alive()` resolves (push a no-op on the work queue
   * there). Does nothing without WATCHDOG_USEC.
   */
  startWatchdog(alive: () => Promise<unknown>): void {
    if (this.watchdogMs === null || this.socket === undefined || this.#timer !== undefined) return;
    const period = Math.max(50, Math.floor(this.watchdogMs / 2));
    let pending = false;
    this.#timer = setInterval(() => {
      if (pending) return; // the previous ping has not come back: let systemd see the silence
      pending = true;
      void alive().then(
        () => {
          pending = false;
          this.notify('WATCHDOG=1');
        },
        () => {
          pending = false;
        },
      );
    }, period);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sender?.close();
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
