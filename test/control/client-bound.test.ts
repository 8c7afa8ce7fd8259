/**
 * The control client's reply bound (issue 10: "the switchover client reads peer replies into an
 * unbounded buffer"): a socket that answers with an endless line is dropped at MAX_REPLY_BYTES
 * with an error naming the limit, long before the timeout; and a daemon's switchover that meets
 * such a "peer" falls back to priority 0 without reading more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { ControlClientError, MAX_REPLY_BYTES, request } from '../../src/control/client.js';
import { ControlPlane } from '../../src/control/plane.js';
import { SdNotify } from '../../src/control/sd-notify.js';
import { MemoryLog } from '../../src/log.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { memoryHost } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from '../runtime/fake-io.js';

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'vc-bound-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A socket that answers every connection with bytes and never a newline; counts what it wrote. */
async function endless(t: Test, path: string): Promise<{ written: () => number }> {
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const server: Server = createServer((sock) => {
    sock.on('error', () => {});
    const pump = (): void => {
      while (!sock.destroyed) {
        written += chunk.length;
        if (!sock.write(chunk)) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    sock.once('data', pump);
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.teardown(() => server.close());
  return { written: () => written };
}

t.test('an endless reply is cut at MAX_REPLY_BYTES with an error naming it, before the timeout', async (t) => {
  const path = join(tmp(t), 'evil.sock');
  const evil = await endless(t, path);
  const t0 = Date.now();
  const err = await request(path, { cmd: 'status' }, 20_000).then(
    () => null,
    (e: unknown) => e,
  );
  const ms = Date.now() - t0;
  t.ok(err instanceof ControlClientError, 'rejected');
  t.match(err, {
    code: 'EMSGSIZE',
    message: new RegExp(`reply from .*evil\\.sock is over ${MAX_REPLY_BYTES} bytes \\(MAX_REPLY_BYTES\\)`),
  });
  t.ok(ms < 10_000, `in ${ms} ms, not at the 20 s timeout`);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(
    evil.written() < MAX_REPLY_BYTES + 8 * 1024 * 1024,
    `the peer got to write ${(evil.written() / 2 ** 20).toFixed(1)} MiB (limit ${MAX_REPLY_BYTES / 2 ** 20} MiB + socket buffers)`,
  );
  // A smaller bound for a caller that asks for one.
  const small = await request(path, { cmd: 'status' }, 5000, 'me', 1000).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(small, { code: 'EMSGSIZE', message: /over 1000 bytes/ });
});

t.test("switchover: a 'peer' socket that floods its reply is dropped, the master yields by priority 0", async (t) => {
  const dir = tmp(t);
  const evilPath = join(dir, 'peer.sock');
  await endless(t, evilPath);
  const conf =
    'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n';
  const r = loadConfig('/etc/keepalived/keepalived.conf', memoryHost({ '/etc/keepalived/keepalived.conf': conf }));
  if (!r.config) throw new Error('config');
  const io = new FakeIo();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  const plane = new ControlPlane({
    daemon: d,
    log,
    version: '9.9.9',
    socketPath: '',
    stateDir: dir,
    reload: () => undefined,
    sd: new SdNotify({ env: {} }),
  });
  const started = await d.start(r.config);
  if (!started.ok) throw new Error(started.error.message);
  await plane.started();
  t.teardown(() => plane.close());
  await advanceDaemon(d, io, 4000);
  t.equal(d.instances[0]!.state, 'MASTER');
  const res = await plane.manual.switchover('VI_1', [evilPath], 'tester (uid 0, pid 1)');
  t.match(res, { ok: true, via: 'priority-0', state: 'BACKUP' });
  t.match(
    (res as unknown as { tried: string[] }).tried[0],
    /peer\.sock: reply from .* is over \d+ bytes \(MAX_REPLY_BYTES\)/,
    'the flooding peer is named with the limit',
  );
});
