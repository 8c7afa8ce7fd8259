/**
 * Precise one-shot timers on one timerfd(2) (CLOCK_MONOTONIC, absolute deadlines), watched by
 * Node's event loop (io/uv-poll.ts). A setTimeout fires up to ~1 ms off its deadline (libuv's loop
 * time is whole milliseconds), which shows as advert interval jitter at the master; the other
 * precise timer (io/system-clock.ts) polls the clock for the last PRECISE_SPIN_MS, which is fine for
 * a timer that rarely fires and too costly for the advert grid's 20 wake-ups a second. A timerfd
 * wakes the loop at the deadline, to the kernel's timer slack (50 us), at no CPU cost while waiting.
 *
 * The deadlines are `monotonicPreciseMs()` values: process.hrtime is CLOCK_MONOTONIC too, so a
 * timer never fires before its deadline on that clock. The pending timers are few (one per advert
 * grid point with adverts waiting, the shared Master_Down_Timer, a few more), kept sorted by
 * deadline; the timerfd is armed for the earliest.
 */
import type { TimerHandle } from '../runtime/ports/clock.js';
import { lazyLibc } from '../util/libc.js';
import { errnoIoError, fail, ok, type IoResult } from './io-error.js';
import { monotonicPreciseMs } from './system-clock.js';
import { watchReadable, type FdWatch } from './uv-poll.js';

const CLOCK_MONOTONIC = 1;
const TFD_NONBLOCK = 0o4000;
const TFD_CLOEXEC = 0o2000000;
const TFD_TIMER_ABSTIME = 1;
/** monotonicPreciseMs() has microsecond resolution; a deadline this close is due. */
const DUE_SLACK_MS = 0.001;

interface Native {
  readonly errno: () => number;
  readonly create: (clockid: number, flags: number) => number;
  readonly settime: (fd: number, flags: number, newValue: Buffer, oldValue: null) => number;
  readonly read: (fd: number, buf: Buffer, count: number) => number | bigint;
  readonly close: (fd: number) => number;
}

const loadNative = lazyLibc<Native>(({ lib, errno }) => ({
  errno,
  create: lib.func('int timerfd_create(int clockid, int flags)') as Native['create'],
  settime: lib.func('int timerfd_settime(int fd, int flags, const uint8_t *new_value, void *old_value)') as Native['settime'],
  read: lib.func('intptr_t read(int fd, uint8_t *buf, size_t count)') as Native['read'],
  close: lib.func('int close(int fd)') as Native['close'],
}));

interface Pending {
  readonly dueMs: number;
  readonly cb: () => void;
  cancelled: boolean;
}

/** The timers; `open()` makes one, `close()` drops every pending timer without running it. */
export class TimerFd {
  readonly #n: Native;
  readonly #fd: number;
  #watch: FdWatch | undefined;
  /** Pending timers, earliest first (equal deadlines in the order they were set). */
  #pending: Pending[] = [];
  /** The deadline the timerfd is armed for, or null when disarmed. */
  #armedMs: number | null = null;
  readonly #spec = Buffer.alloc(32);
  readonly #count = Buffer.alloc(8);
  #closed = false;
  #fired = 0;

  private constructor(n: Native, fd: number) {
    this.#n = n;
    this.#fd = fd;
  }

  /** A timerfd watched by the event loop; an IoError when koffi, timerfd or libuv is unavailable. */
  static open(): IoResult<TimerFd> {
    const n = loadNative();
    if (n === null)
      return fail({
        kind: 'IoError',
        syscall: 'timerfd_create',
        errno: 95,
        code: 'ENOTSUP',
        message: 'libc is not reachable through koffi',
      });
    const fd = n.create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return fail(errnoIoError('timerfd_create', n.errno()));
    const t = new TimerFd(n, fd);
    const w = watchReadable(fd, (status) => t.#onReadable(status));
    if (!w.ok) {
      n.close(fd);
      return fail(w.error);
    }
    t.#watch = w.value;
    return ok(t);
  }

  /** Run `cb` once, at `dueMs` (monotonicPreciseMs) or as soon after it as the loop allows. */
  at(dueMs: number, cb: () => void): TimerHandle {
    const p: Pending = { dueMs, cb, cancelled: false };
    if (this.#closed) return { cancel: () => {} };
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1] as Pending).dueMs > dueMs) i--;
    this.#pending.splice(i, 0, p);
    if (i === 0) this.#arm();
    return {
      cancel: () => {
        if (p.cancelled) return;
        p.cancelled = true;
        const at = this.#pending.indexOf(p);
        if (at >= 0) this.#pending.splice(at, 1);
        if (at === 0) this.#arm();
      },
    };
  }

  /** Timers run so far (for tests and status). */
  get fired(): number {
    return this.#fired;
  }

  /** Pending timers. */
  get pending(): number {
    return this.#pending.length;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    this.#watch?.stop();
    this.#n.close(this.#fd);
  }

  /** Arm the timerfd for the earliest pending deadline (or disarm it). */
  #arm(): void {
    const first = this.#pending[0];
    const dueMs = first === undefined ? null : first.dueMs;
    if (dueMs === this.#armedMs || this.#closed) return;
    this.#armedMs = dueMs;
    // struct itimerspec { it_interval = 0, it_value }: it_value 0 disarms, so a deadline at or
    // before the clock's origin is armed for 1 ns (already due: it fires at once).
    let ns = dueMs === null ? 0n : BigInt(Math.ceil(dueMs * 1e6));
    if (dueMs !== null && ns <= 0n) ns = 1n;
    this.#spec.fill(0);
    this.#spec.writeBigInt64LE(ns / 1_000_000_000n, 16);
    this.#spec.writeBigInt64LE(ns % 1_000_000_000n, 24);
    this.#n.settime(this.#fd, TFD_TIMER_ABSTIME, this.#spec, null);
  }

  #onReadable(status: number): void {
    if (this.#closed) return;
    if (status < 0) {
      // A dead watch: run what is due and leave the rest to close() (never seen on a timerfd).
      this.#watch?.stop();
      this.#watch = undefined;
    }
    this.#n.read(this.#fd, this.#count, 8); // the expiry count; EAGAIN after a re-arm is fine
    this.#armedMs = null;
    const nowMs = monotonicPreciseMs();
    while (!this.#closed) {
      const p = this.#pending[0];
      // hrtime is read in whole microseconds: a deadline within one of it counts as due.
      if (p === undefined || p.dueMs > nowMs + DUE_SLACK_MS) break;
      this.#pending.shift();
      p.cancelled = true;
      this.#fired++;
      try {
        p.cb();
      } catch {
        // A throwing callback is a bug of its owner; the other timers still run.
      }
    }
    this.#arm();
  }
}
