/**
 * The control socket server's defences against its own clients (issue 10, Deliver 3), on a real
 * Unix socket in a temp dir with an injected handler (no daemon, no root):
 *  - pipelined requests: one in flight per connection, reading paused until the reply is written
 *    out (a client that does not read stops being served: the handler is not called again);
 *  - the request budget (MAX_REQUESTS_PER_SECOND) paces a pipelining client;
 *  - the connection cap (a line, then closed; counted; the warning rate-limited);
 *  - the idle timeout (injected), not counting the handler's time;
 *  - the request line cap;
 *  - fail closed: changing commands refused when the peer credentials cannot be read;
 *  - the read-only socket answers status and ping only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { EncodedResponse, type ControlRequest } from '../../src/control/protocol.js';
import {
  ControlServer,
  MAX_REQUEST_BYTES,
  RequestBudget,
  type ControlHandler,
  type ControlServerOptions,
} from '../../src/control/server.js';
import { MemoryLog } from '../../src/log.js';

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc-limits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function serve(
  t: Test,
  handler: ControlHandler,
  o: Partial<ControlServerOptions> = {},
): Promise<{ server: ControlServer; path: string; log: MemoryLog }> {
  const path = join(tmp(t), 'c.sock');
  const log = new MemoryLog();
  const server = new ControlServer({ path, log, handler, peerCred: () => ({ pid: 1, uid: 0, gid: 0 }), ...o });
  await server.start();
  t.teardown(() => server.close());
  return { server, path, log };
}

/** A raw client: connect, collect reply lines, know when the server closed. */
function client(path: string): { sock: Socket; lines: string[]; closed: Promise<void>; connected: Promise<void> } {
  const sock = connect(path);
  const lines: string[] = [];
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  const connected = new Promise<void>((r) => sock.on('connect', () => r()));
  return { sock, lines, closed, connected };
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

t.test('pipelined requests are served one at a time, and not at all while the client does not read', async (t) => {
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const big = new EncodedResponse(JSON.stringify({ ok: true, status: { pad: 'x'.repeat(256 * 1024) } }));
  const { server, path } = await serve(
    t,
    async (req) => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(0);
      inFlight--;
      return req.cmd === 'status' ? big : { ok: true, pong: true };
    },
    { limits: { requestsPerSecond: 1e6, replyBytesPerSecond: 1e12 } },
  );
  const c = client(path);
  await c.connected;
  c.sock.pause(); // a reader that reads nothing (yet)
  const N = 300;
  c.sock.write('{"cmd":"status"}\n'.repeat(N));
  await sleep(500);
  // The kernel's socket buffers take a few 256 KiB replies; after that the server must stop.
  t.ok(
    calls <= 8,
    `handler called ${calls} times for ${N} pipelined requests while the client read nothing (each reply waits for the previous one to be written out)`,
  );
  t.equal(maxInFlight, 1, 'never two requests of one connection in the handler at once');
  c.sock.resume();
  await until(() => c.lines.length === N, 20_000, 'all replies');
  t.equal(calls, N, 'every request answered once the client reads');
  t.equal(maxInFlight, 1, 'still one at a time');
  t.ok(
    c.lines.every((l) => l.startsWith('{"ok":true,"status":')),
    'replies in order, whole',
  );
  t.equal(server.stats.answered, N);
  c.sock.destroy();
});

t.test('the request budget paces a client that pipelines without pause', async (t) => {
  const { server, path } = await serve(t, async () => ({ ok: true, pong: true }), { limits: { requestsPerSecond: 200 } });
  const c = client(path);
  await c.connected;
  const t0 = Date.now();
  c.sock.write('ping\n'.repeat(100));
  await until(() => c.lines.length === 100, 10_000, '100 replies');
  const ms = Date.now() - t0;
  // 20 at once (a tenth of a second's worth), then 200 a second: the other 80 take >= 400 ms.
  t.ok(ms >= 350, `100 requests at 200/s took ${ms} ms (>= 400 ms expected, less 50 ms of timer slack)`);
  t.ok(server.stats.paced > 0, `paced ${server.stats.paced} times`);
  c.sock.destroy();
});

t.test('RequestBudget on an injected clock: a tenth of a second in the bucket, debt for big replies', async (t) => {
  let now = 0;
  const b = new RequestBudget(100, 1000, () => now);
  for (let i = 0; i < 10; i++) t.equal(b.take(), 0, `request ${i + 1} of the initial 10`);
  t.equal(b.take(), 10, 'the 11th waits 10 ms (100/s)');
  now += 10;
  t.equal(b.take(), 0);
  b.spend(500); // 100 bytes in the bucket: 400 in debt
  now += 10; // +1 request, +10 bytes
  t.equal(b.take(), 390, 'waits for the byte debt (390 bytes at 1000/s)');
  now += 390;
  t.equal(b.take(), 0);
});

t.test('connection cap: the next connection gets one line and is closed; counted; logged once per window', async (t) => {
  const { server, path, log } = await serve(t, async () => ({ ok: true, pong: true }), { limits: { maxConnections: 3 } });
  const held = [client(path), client(path), client(path)];
  await Promise.all(held.map((c) => c.connected));
  await until(() => server.connections === 3, 2000, '3 accepted');
  const extra = Array.from({ length: 5 }, () => client(path));
  await Promise.all(extra.map((c) => c.closed));
  for (const c of extra)
    t.match(
      c.lines,
      [/^\{"ok":false,"error":"too many connections \(3 open, MAX_CONNECTIONS\); try again later"\}$/],
      'one error line, then closed',
    );
  t.equal(server.stats.overCap, 5, 'counted');
  t.equal(
    log.messages('warn').filter((m) => /refused a connection .*MAX_CONNECTIONS/.test(m)).length,
    1,
    'one warning for 5 refusals (rate-limited)',
  );
  // The held ones still work, and a slot frees when one leaves.
  held[0]!.sock.write('ping\n');
  await until(() => held[0]!.lines.length === 1, 2000, 'held connection served');
  held[0]!.sock.destroy();
  await until(() => server.connections === 2, 2000, 'slot freed');
  const again = client(path);
  again.sock.write('ping\n');
  await until(() => again.lines.length === 1, 2000, 'a new connection is served');
  t.match(again.lines[0], /"pong":true/);
  for (const c of [...held, again]) c.sock.destroy();
});

t.test('idle timeout: a silent connection is closed; the handler’s own time does not count', async (t) => {
  const { server, path } = await serve(
    t,
    async (req) => {
      if (req.cmd === 'reload') await sleep(400);
      return { ok: true, done: req.cmd };
    },
    { limits: { idleTimeoutMs: 150 } },
  );
  const silent = client(path);
  await silent.connected;
  const t0 = Date.now();
  await silent.closed;
  const ms = Date.now() - t0;
  t.ok(ms >= 100 && ms < 2000, `closed after ${ms} ms of silence (timeout 150 ms)`);
  t.equal(server.stats.idleClosed, 1);
  const slow = client(path);
  await slow.connected;
  slow.sock.write('{"cmd":"reload"}\n');
  await until(() => slow.lines.length === 1, 3000, 'reload reply');
  t.match(slow.lines[0], /"done":"reload"/, 'a 400 ms request outlives a 150 ms idle timeout');
  await slow.closed;
  t.equal(server.stats.idleClosed, 2, 'then idle again: closed');
});

t.test('a request line over the cap: an error line naming the limit, connection closed', async (t) => {
  const { server, path } = await serve(t, async () => ({ ok: true, pong: true }), { limits: { maxRequestBytes: 1024 } });
  const c = client(path);
  await c.connected;
  c.sock.write('x'.repeat(5000));
  await c.closed;
  t.match(c.lines, [/request line too long \(over 1024 bytes, MAX_REQUEST_BYTES\)/]);
  t.equal(server.stats.tooLong, 1);
  t.ok(MAX_REQUEST_BYTES <= 64 * 1024, `default cap ${MAX_REQUEST_BYTES} bytes`);
});

const MUTATING: readonly ControlRequest[] = [
  { cmd: 'reload' },
  { cmd: 'promote', instance: 'VI_1' },
  { cmd: 'switchover', instance: 'VI_1' },
  { cmd: 'maintenance', on: true },
];

t.test('fail closed: without peer credentials, every changing command is refused; status still served', async (t) => {
  const seen: string[] = [];
  const { server, path, log } = await serve(
    t,
    async (req) => {
      seen.push(req.cmd);
      return { ok: true, done: req.cmd };
    },
    { peerCred: () => null },
  );
  const c = client(path);
  for (const r of MUTATING) c.sock.write(`${JSON.stringify({ ...r, user: 'root' })}\n`);
  c.sock.write('{"cmd":"status"}\n');
  await until(() => c.lines.length === MUTATING.length + 1, 3000, 'replies');
  for (let i = 0; i < MUTATING.length; i++) {
    t.match(
      JSON.parse(c.lines[i]!),
      { ok: false, error: /refused: the caller's credentials \(SO_PEERCRED\) cannot be read/ },
      `${MUTATING[i]!.cmd} refused although the client says it is root`,
    );
  }
  t.match(JSON.parse(c.lines[MUTATING.length]!), { ok: true, done: 'status' });
  t.same(seen, ['status'], 'the handler never saw a changing command');
  t.equal(server.stats.refused, 4);
  t.ok(log.messages('warn').some((m) => /refused 'reload' from root \(client's word\): peer credentials unknown \(fail closed\)/.test(m)));
  c.sock.destroy();
});

t.test('credentials: another uid is refused changes; root and the daemon’s uid are not', async (t) => {
  for (const [uid, ok] of [
    [4242, false],
    [0, true],
    [process.getuid?.() ?? 0, true],
  ] as const) {
    const { path } = await serve(t, async (req) => ({ ok: true, done: req.cmd }), { peerCred: () => ({ pid: 7, uid, gid: uid }) });
    const c = client(path);
    c.sock.write('{"cmd":"promote","instance":"VI_1"}\n{"cmd":"status"}\n');
    await until(() => c.lines.length === 2, 3000, 'replies');
    t.match(
      JSON.parse(c.lines[0]!),
      ok ? { ok: true, done: 'promote' } : { ok: false, error: "'promote' needs root" },
      `uid ${uid}: promote ${ok ? 'passed on' : 'refused'}`,
    );
    t.match(JSON.parse(c.lines[1]!), { ok: true, done: 'status' });
    c.sock.destroy();
  }
});

t.test('read-only socket: status and ping only, everything else refused with a sentence', async (t) => {
  const seen: string[] = [];
  const { path } = await serve(
    t,
    async (req) => {
      seen.push(req.cmd);
      return { ok: true, done: req.cmd };
    },
    { readOnly: true, mode: 0o660 },
  );
  const c = client(path);
  c.sock.write('status\nping\n');
  for (const r of MUTATING) c.sock.write(`${JSON.stringify(r)}\n`);
  await until(() => c.lines.length === 2 + MUTATING.length, 3000, 'replies');
  t.match(JSON.parse(c.lines[0]!), { ok: true, done: 'status' });
  t.match(JSON.parse(c.lines[1]!), { ok: true, done: 'ping' });
  for (let i = 0; i < MUTATING.length; i++) {
    t.match(JSON.parse(c.lines[2 + i]!), {
      ok: false,
      error: new RegExp(`^'${MUTATING[i]!.cmd}' is not served on the read-only status socket .* \\(only status and ping are\\)`),
    });
  }
  t.same(seen, ['status', 'ping'], 'root on the read-only socket changes nothing either');
  c.sock.destroy();
});

t.test('a client that half-closes after pipelining still gets every reply', async (t) => {
  const { path } = await serve(t, async (req) => {
    await sleep(5);
    return { ok: true, done: req.cmd };
  });
  const c = client(path);
  c.sock.end('ping\nstatus\nping\n');
  await c.closed;
  t.same(
    c.lines.map((l) => JSON.parse(l).done),
    ['ping', 'status', 'ping'],
  );
});
