/**
 * A fake ProcessEvents (src/runtime/ports/processes.ts) for track_process tests: `start` succeeds or
 * returns the error it is given, `emit` delivers an event as the real connector's read loop would,
 * and the calls are recorded. No socket.
 */
import type { IoError, IoResult, ProcEvent, ProcEventCounters, ProcessEvents } from '../../src/runtime/ports/index.js';

/** The failure a network namespace other than the first gives (errno 111). */
export const CONN_REFUSED: IoError = {
  kind: 'IoError',
  syscall: 'send(PROC_CN_MCAST_LISTEN)',
  errno: 111,
  code: 'ECONNREFUSED',
  message: 'Connection refused',
};

export class FakeProcEvents implements ProcessEvents {
  /** Set to make the next `start` fail. */
  failWith: IoError | undefined;
  starts = 0;
  stops = 0;
  #onEvent: ((ev: ProcEvent) => void) | undefined;

  get subscribed(): boolean {
    return this.#onEvent !== undefined;
  }

  start(onEvent: (ev: ProcEvent) => void): IoResult<void> {
    this.starts++;
    if (this.failWith !== undefined) return { ok: false, error: this.failWith };
    if (this.#onEvent !== undefined) throw new Error('started twice');
    this.#onEvent = onEvent;
    return { ok: true, value: undefined };
  }

  stop(): void {
    if (this.#onEvent === undefined) return;
    this.stops++;
    this.#onEvent = undefined;
  }

  counters(): ProcEventCounters {
    return { received: 0, dropped: 0, overruns: 0 };
  }

  /** Deliver `ev` (only while subscribed, as the real one). */
  emit(ev: ProcEvent): void {
    this.#onEvent?.(ev);
  }

  /** The kernel's ack to the subscription. */
  ack(err = 0): void {
    this.emit({ kind: 'ack', err });
  }
}
