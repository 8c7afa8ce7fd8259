/**
 * sd_notify without libsystemd: datagrams to a fake NOTIFY_SOCKET (path and abstract), the
 * watchdog fed only when the work queue answers, and no-ops without NOTIFY_SOCKET.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SdNotify } from '../../src/control/sd-notify.js';
import { FakeNotifySocket } from './fake-notify.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('READY, STATUS, RELOADING (with MONOTONIC_USEC), STOPPING reach a path socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vc-sd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = new FakeNotifySocket(join(dir, 'notify'));
  t.teardown(() => fake.close());
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: fake.path } });
  t.teardown(() => sd.close());
  t.ok(sd.enabled);
  t.ok(sd.ready('VI_1 MASTER'));
  t.ok(sd.reloading());
  t.ok(sd.status('line one\nline two'));
  t.ok(sd.stopping());
  await fake.waitFor(/^STOPPING=1$/, 2000);
  const lines = fake.lines();
  t.ok(lines.includes('READY=1'));
  t.ok(lines.includes('STATUS=VI_1 MASTER'));
  t.ok(lines.includes(`MAINPID=${process.pid}`));
  t.ok(lines.includes('RELOADING=1'));
  const mono = lines.find((l) => l.startsWith('MONOTONIC_USEC='));
  t.match(mono, /^MONOTONIC_USEC=\d+$/);
  t.ok(lines.includes('STATUS=line one line two'), 'STATUS is one line');
  t.equal(fake.messages[0]!.text, `READY=1\nSTATUS=VI_1 MASTER\nMAINPID=${process.pid}\n`, 'one datagram per notification');
});

t.test('abstract NOTIFY_SOCKET (@name)', async (t) => {
  const name = `@vc-sd-${process.pid}-${Date.now()}`;
  const fake = new FakeNotifySocket(name);
  t.teardown(() => fake.close());
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: name } });
  t.teardown(() => sd.close());
  t.ok(sd.ready());
  await fake.waitFor(/^READY=1$/, 2000);
});

t.test('watchdog: WATCHDOG=1 every half period while the queue answers, silence when it does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vc-sd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = new FakeNotifySocket(join(dir, 'notify'));
  t.teardown(() => fake.close());
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: fake.path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) } });
  t.teardown(() => sd.close());
  t.equal(sd.watchdogMs, 200);
  let wedged = false;
  let release: (() => void) | undefined;
  sd.startWatchdog(() => (wedged ? new Promise<void>((r) => (release = r)) : Promise.resolve()));
  await sleep(650);
  const fed = fake.lines().filter((l) => l === 'WATCHDOG=1').length;
  t.ok(fed >= 4 && fed <= 8, `fed ${fed} times in 650 ms at a 100 ms period`);
  wedged = true;
  await sleep(150);
  const before = fake.lines().filter((l) => l === 'WATCHDOG=1').length;
  await sleep(500);
  t.equal(fake.lines().filter((l) => l === 'WATCHDOG=1').length, before, 'a wedged queue stops the feed');
  release?.();
});

t.test('no NOTIFY_SOCKET: everything is a no-op; WATCHDOG_PID of another process disables the watchdog', async (t) => {
  const sd = new SdNotify({ env: {} });
  t.notOk(sd.enabled);
  t.notOk(sd.ready());
  t.equal(new SdNotify({ env: { NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' } }).watchdogMs, null);
});

t.test('a send error is reported once', async (t) => {
  const errors: number[] = [];
  const sd = new SdNotify({ env: { NOTIFY_SOCKET: '/nonexistent/vc-sd/notify' }, onError: (e) => errors.push(e) });
  t.teardown(() => sd.close());
  t.notOk(sd.ready());
  t.notOk(sd.status('x'));
  t.equal(errors.length, 1);
  t.equal(errors[0], 2, 'ENOENT');
});
