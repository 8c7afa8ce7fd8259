/**
 * A fake systemd NOTIFY_SOCKET for tests: an AF_UNIX datagram socket bound to a path (or an
 * abstract name `@x`), read without blocking every 5 ms. Node cannot bind datagram Unix sockets,
 * so this uses libc through koffi, like the daemon's sender does.
 */
import { createRequire } from 'node:module';
import { sockaddrUn } from '../../src/control/native.js';

const require = createRequire(import.meta.url);
const koffi = require('koffi') as typeof import('koffi');
const lib = koffi.load('libc.so.6');
const socket = lib.func('int socket(int domain, int type, int protocol)');
const bind = lib.func('int bind(int fd, const uint8_t *addr, uint32_t len)');
const recv = lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)');
const close = lib.func('int close(int fd)');

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;

export class FakeNotifySocket {
  readonly messages: { atMs: number; text: string }[] = [];
  readonly #fd: number;
  readonly #timer: NodeJS.Timeout;

  constructor(readonly path: string) {
    this.#fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0) as number;
    if (this.#fd < 0) throw new Error(`socket: errno ${koffi.errno()}`);
    const addr = sockaddrUn(path);
    if (addr === null) throw new Error(`bad path ${path}`);
    if ((bind(this.#fd, addr, addr.length) as number) !== 0) throw new Error(`bind ${path}: errno ${koffi.errno()}`);
    const buf = new Uint8Array(4096);
    this.#timer = setInterval(() => {
      for (;;) {
        const n = Number(recv(this.#fd, buf, buf.length, 0));
        if (n <= 0) break;
        this.messages.push({ atMs: Date.now(), text: Buffer.from(buf.subarray(0, n)).toString('utf8') });
      }
    }, 5);
  }

  /** Every KEY=VALUE line received so far, in order. */
  lines(): string[] {
    return this.messages.flatMap((m) => m.text.split('\n').filter((l) => l !== ''));
  }

  async waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const hit = this.lines().find((l) => re.test(l));
      if (hit !== undefined) return hit;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${re} on ${this.path} within ${timeoutMs} ms; got: ${this.lines().join(' | ')}`);
  }

  close(): void {
    clearInterval(this.#timer);
    close(this.#fd);
  }
}
