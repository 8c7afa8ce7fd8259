/**
 * The real proc connector (src/io/proc-connector.ts), root only. In the initial network namespace
 * it only listens (no network traffic): the kernel confirms the subscription, and a short-lived
 * process run under a name of its own (a copy of /bin/sleep in a temporary directory) shows its
 * fork, exec and exit, its comm readable at the exec as the runtime reads it, while a thread's
 * creation is kept from the socket by its filter; after stop nothing more is heard. In a fresh network namespace (prefix vr-pcn-, subnet 10.238.47.0/24, no traffic
 * sent) the subscription fails with ECONNREFUSED and leaves no descriptor open, as keepalived
 * 2.2.7's does there.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { procTable } from '../../src/host/proc-table.js';
import { ProcConnector } from '../../src/io/proc-connector.js';
import type { ProcEntry, ProcEvent } from '../../src/runtime/ports/index.js';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

t.test(
  'initial namespace: ack, then fork, exec and exit of a uniquely named process',
  { skip: netnsSkip(), timeout: 20_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vr-pcn-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const name = `vpc${process.pid % 100_000}x${Math.floor(Math.random() * 1e5)}`.slice(0, 15);
    const exe = join(dir, name);
    copyFileSync('/bin/sleep', exe);
    chmodSync(exe, 0o755);

    const c = new ProcConnector();
    t.teardown(() => c.stop());
    const table = procTable();
    const events: ProcEvent[] = [];
    let watched = -1;
    let atExec: ProcEntry | undefined;
    const r = c.start((ev) => {
      events.push(ev);
      // read the process at its exec, as the runtime does
      if (ev.kind === 'exec' && ev.tgid === watched) atExec = table.entry?.(ev.tgid, { cmdlineBytes: 256 });
    });
    t.ok(r.ok, `subscribed${r.ok ? '' : `: ${r.error.message}`}`);
    if (!r.ok) return;
    t.match(
      c.start(() => {}),
      { ok: false, error: { code: 'EALREADY' } },
      'a second start is refused',
    );
    await pollUntil(() => events.some((e) => e.kind === 'ack'), 2000, 'the kernel acknowledges the subscription');
    t.same(
      events.filter((e) => e.kind === 'ack'),
      [{ kind: 'ack', err: 0 }],
      'one ack, ours, without error',
    );

    t.ok(c.filtered, 'the socket filter is attached');
    // a thread of this process: its creation is a fork event the filter keeps from us
    const worker = new Worker('setTimeout(() => {}, 50)', { eval: true });
    await new Promise<void>((res) => worker.once('exit', () => res()));
    const child = spawn(exe, ['0.3'], { stdio: 'ignore' });
    const pid = child.pid!;
    watched = pid;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    await exited;
    await pollUntil(() => events.some((e) => e.kind === 'exit' && e.tgid === pid), 3000, `the exit of ${pid}`);
    const idx = (k: ProcEvent['kind']) =>
      events.findIndex(
        (e) => e.kind === k && (e.kind === 'fork' ? e.childTgid === pid && e.childPid === pid : 'tgid' in e && e.tgid === pid),
      );
    const fork = idx('fork');
    const exec = idx('exec');
    const exit = idx('exit');
    t.ok(fork >= 0, 'fork of the child seen, as a process (pid = tgid)');
    t.match(events[fork], { kind: 'fork', parentTgid: process.pid }, 'forked by this test');
    t.ok(exec > fork, 'then its exec');
    t.match(events[exec], { kind: 'exec', pid, tgid: pid });
    t.ok(exit > exec, 'then its exit');
    t.match(events[exit], { kind: 'exit', pid, tgid: pid });
    t.equal(atExec?.comm, name, "the comm read at the exec is the program's name");
    t.match(atExec?.cmdline, `${exe}\u00000.3\u0000`, 'and the command line');
    const n = c.counters();
    t.ok(n.received >= 4, `messages read (${n.received})`);
    t.equal(n.dropped, 0, 'none dropped');
    t.notOk(
      events.some((e) => (e.kind === 'fork' ? e.childPid !== e.childTgid : e.kind === 'exit' && e.pid !== e.tgid)),
      "no thread's fork or exit reached us (the worker's included)",
    );

    c.stop();
    const before = events.length;
    const again = spawn(exe, ['0.05'], { stdio: 'ignore' });
    await new Promise<void>((res) => again.once('exit', () => res()));
    await sleep(300);
    t.equal(events.length, before, 'nothing heard after stop');
    c.stop();
  },
);

t.test('a fresh network namespace: ECONNREFUSED, nothing left open', { skip: netnsSkip(), timeout: 30_000 }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vr-pcn-', subnet: '10.238.47', hosts: ['a'] });
  const c = new ProcConnector();
  t.teardown(() => c.stop());
  lab.inNetns('a', () => undefined); // the lab keeps a descriptor of the initial namespace from its first use
  const fds = openFds();
  const r = lab.inNetns('a', () => c.start(() => {}));
  t.match(r, {
    ok: false,
    error: { syscall: 'send(PROC_CN_MCAST_LISTEN)', errno: 111, code: 'ECONNREFUSED', message: 'Connection refused' },
  });
  t.equal(openFds(), fds, 'the socket was closed');
  t.match(
    lab.inNetns('a', () => c.start(() => {})),
    { ok: false, error: { errno: 111 } },
    'and again, the same',
  );
  t.equal(openFds(), fds, 'still nothing left open');
  const back = c.start(() => {});
  t.ok(back.ok, 'the same adapter subscribes in the initial namespace afterwards');
  c.stop();
});
