/**
 * Readiness of a file descriptor on Node's own event loop: a libuv `uv_poll_t` started through
 * koffi on the functions Node exports for addons (`uv_default_loop`, `uv_poll_init`,
 * `uv_poll_start`, `uv_poll_stop`, `uv_close`, `uv_handle_size`). This is what lets io/ read a
 * socket Node cannot open itself (the IPv6 VRRP socket needs recvmsg(2) with ancillary data, which
 * neither Node nor raw-socket offer) without a thread: the callback runs on the main thread in the
 * poll phase, like a Node socket's, and an active watch keeps the loop alive as a socket would.
 *
 * One registered koffi callback serves every watch (koffi has a fixed number of slots); it finds
 * the watch by the handle's address. The handle's memory is freed only in uv_close's callback, as
 * libuv requires.
 */
import { processSymbols } from '../util/libc.js';
import { errnoIoError, fail, ok, type IoResult } from './io-error.js';

/** libuv's uv_handle_type for uv_poll_t (uv.h: UV_POLL is 8 in every libuv 1.x). */
const UV_POLL = 8;
const UV_READABLE = 1;
/** A sanity bound on uv_handle_size(UV_POLL): a few hundred bytes on 64-bit Linux. */
const UV_POLL_SIZE_MAX = 4096;

/** A started watch. `stop()` is idempotent; the fd may be closed right after it. */
export interface FdWatch {
  stop(): void;
}

interface UvApi {
  readonly koffi: typeof import('koffi');
  readonly loop: unknown;
  readonly handleSize: number;
  readonly init: (loop: unknown, handle: unknown, fd: number) => number;
  readonly start: (handle: unknown, events: number, cb: unknown) => number;
  readonly stopPoll: (handle: unknown) => number;
  readonly close: (handle: unknown, cb: unknown) => void;
  readonly pollCb: unknown;
  readonly closeCb: unknown;
}

interface Watch {
  readonly handle: unknown;
  readonly onEvent: (status: number) => void;
  stopped: boolean;
}

const watches = new Map<bigint, Watch>();
let api: UvApi | null | undefined;

function onPoll(handle: unknown, status: number): void {
  const w = typeof handle === 'bigint' ? watches.get(handle) : undefined;
  if (w === undefined || w.stopped) return;
  try {
    w.onEvent(status);
  } catch {
    // A throwing consumer is a bug; it must not leave an exception pending inside libuv's callback.
  }
}

function onClosed(handle: unknown): void {
  if (typeof handle !== 'bigint') return;
  const w = watches.get(handle);
  watches.delete(handle);
  if (w !== undefined && api) api.koffi.free(w.handle);
}

function uv(): UvApi | null {
  if (api !== undefined) return api;
  const p = processSymbols();
  try {
    if (p === null) throw new Error('no process symbols');
    const { koffi, lib } = p;
    const PollCb = koffi.proto('void vrrpd_uv_poll_cb(void *handle, int status, int events)');
    const CloseCb = koffi.proto('void vrrpd_uv_close_cb(void *handle)');
    const handleSize = Number(lib.func('size_t uv_handle_size(int type)')(UV_POLL));
    if (!(handleSize > 0 && handleSize <= UV_POLL_SIZE_MAX)) throw new Error(`uv_handle_size(UV_POLL) = ${handleSize}`);
    api = {
      koffi,
      loop: lib.func('void *uv_default_loop(void)')(),
      handleSize,
      init: lib.func('int uv_poll_init(void *loop, void *handle, int fd)') as UvApi['init'],
      start: lib.func('int uv_poll_start(void *handle, int events, vrrpd_uv_poll_cb *cb)') as UvApi['start'],
      stopPoll: lib.func('int uv_poll_stop(void *handle)') as UvApi['stopPoll'],
      close: lib.func('void uv_close(void *handle, vrrpd_uv_close_cb *cb)') as UvApi['close'],
      pollCb: koffi.register(onPoll, koffi.pointer(PollCb)),
      closeCb: koffi.register(onClosed, koffi.pointer(CloseCb)),
    };
  } catch {
    api = null;
  }
  return api;
}

/**
 * Call `onEvent(0)` on the main thread whenever `fd` is readable (level-triggered: again on the
 * next loop turn while data is left), or `onEvent(status < 0)` with a libuv error (then the watch
 * is dead: stop it). Errors as values: ENOTSUP when libuv cannot be reached through koffi, EBADF
 * or EEXIST from uv_poll_init.
 */
export function watchReadable(fd: number, onEvent: (status: number) => void): IoResult<FdWatch> {
  const u = uv();
  if (u === null)
    return fail({ kind: 'IoError', syscall: 'uv_poll_init', errno: 95, code: 'ENOTSUP', message: 'libuv is not reachable through koffi' });
  const handle: unknown = u.koffi.alloc('uint8_t', u.handleSize);
  const key = u.koffi.address(handle);
  const rc = u.init(u.loop, handle, fd);
  if (rc !== 0) {
    u.koffi.free(handle);
    return fail(errnoIoError('uv_poll_init', -rc));
  }
  const w: Watch = { handle, onEvent, stopped: false };
  watches.set(key, w);
  const st = u.start(handle, UV_READABLE, u.pollCb);
  const stop = (): void => {
    if (w.stopped) return;
    w.stopped = true;
    u.stopPoll(handle);
    u.close(handle, u.closeCb);
  };
  if (st !== 0) {
    stop();
    return fail(errnoIoError('uv_poll_start', -st));
  }
  return ok({ stop });
}
