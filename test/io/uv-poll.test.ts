/**
 * io/uv-poll.ts: a descriptor watched on Node's own event loop through koffi (no root: a pipe). The
 * callback fires while data waits, not after stop(), and a stopped watch does not keep the process
 * alive (this file would time out otherwise).
 */
import t from 'tap';
import { createRequire } from 'node:module';
import { watchReadable } from '../../src/io/uv-poll.js';

const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
const libc = koffi.load('libc.so.6');
const pipe = libc.func('int pipe2(_Out_ int *fds, int flags)') as (fds: number[], flags: number) => number;
const write = libc.func('intptr_t write(int fd, const uint8_t *buf, size_t len)') as (fd: number, b: Buffer, n: number) => number;
const read = libc.func('intptr_t read(int fd, _Out_ uint8_t *buf, size_t len)') as (fd: number, b: Buffer, n: number) => number;
const close = libc.func('int close(int fd)') as (fd: number) => number;

t.test('readable events on the main loop, none after stop', async (t) => {
  const fds = [0, 0];
  t.equal(pipe(fds, 0o4000 /* O_NONBLOCK */), 0, 'pipe');
  const [rd, wr] = fds as [number, number];
  t.teardown(() => {
    close(rd);
    close(wr);
  });
  const seen: string[] = [];
  let wake: (() => void) | undefined;
  const w = watchReadable(rd, (status) => {
    const b = Buffer.alloc(16);
    const n = Number(read(rd, b, 16));
    seen.push(`${status}:${b.subarray(0, Math.max(n, 0)).toString()}`);
    wake?.();
  });
  t.ok(w.ok, 'watch started');
  if (!w.ok) return;
  const next = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no readable callback within 2000 ms')), 2000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let p = next();
  write(wr, Buffer.from('one'), 3);
  await p;
  p = next();
  write(wr, Buffer.from('two'), 3);
  await p;
  t.same(seen, ['0:one', '0:two']);
  w.value.stop();
  w.value.stop();
  write(wr, Buffer.from('three'), 5);
  await new Promise((r) => setTimeout(r, 100));
  t.same(seen, ['0:one', '0:two'], 'nothing after stop');
});

t.test('a descriptor that is not open is an error value', async (t) => {
  const w = watchReadable(987654, () => {});
  t.match(w, { ok: false, error: { kind: 'IoError', syscall: 'uv_poll_init' } });
});
