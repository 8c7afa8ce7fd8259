/**
 * The built daemon refuses what its runtime cannot run yet (use_vmac on an IPv6 instance:
 * src/config/runtime-support.ts)
 * instead of running it as v2/IPv4 without a word, which it did before:
 *   1. `vrrpd run` on an IPv6 config with use_vmac exits non-zero at once with the named reason and opens nothing
 *      (no pid file). Needs no root: run as an unprivileged uid when the test runs as root.
 *   1b. The same for a keyword vrrpd does not run that refuses the config (use_ipvlan: src/config/support.ts).
 *   2. A reload to an IPv6 config with use_vmac (then one with use_ipvlan) is refused with the reason logged, and the running v2 config stays
 *      (a keyword vrrpd ignores, `debug`, is logged once at start-up):
 *      on real namespaces (prefix vd-v3ref-, subnet 10.238.12.0/24), the MASTER keeps its state and
 *      the capture shows it still sending version-2 adverts every second.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab, netnsSkip, sleep } from '../support/netns.js';
import { VRRPD_BIN, requireBuild, confText, instanceConf, instanceStatus, startVrrpd, waitState } from './helpers.js';

const NET = '10.238.12';
const VIP = `${NET}.100`;
const REFUSED =
  /not supported by vrrpd yet: use_vmac on an IPv6 instance \(vrrpd makes IPv4 VMACs only\) \(instance VI_1, .*\.conf:\d+\) - the daemon would refuse to start/;

/** Run the built daemon to its exit (bounded): code and output. */
function runDaemon(args: string[], uid?: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [VRRPD_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

t.test('vrrpd run refuses an IPv6 config with use_vmac: non-zero exit, the reason, nothing opened', { skip: requireBuild() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-v6run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  const conf = join(dir, 'v6.conf');
  // dynamic_interfaces: eth0 need not exist where the test runs
  writeFileSync(
    conf,
    confText('n', instanceConf({ priority: 100, vips: ['fd00::1/64'], extra: '    use_vmac' }), '    dynamic_interfaces\n'),
  );
  chmodSync(conf, 0o644);
  const stateDir = join(dir, 'state');
  const asUser = process.getuid?.() === 0 ? 4242 : undefined;
  const r = await runDaemon(['run', '-f', conf, '--state-dir', stateDir], asUser);
  t.not(r.code, 0, `exit ${r.code}`);
  t.not(r.code, null, 'exited by itself');
  t.match(r.out, REFUSED);
  t.match(r.out, /configuration refused \(see above\); nothing was started/);
  t.notOk(existsSync(join(stateDir, 'vrrpd.pid')), 'no pid file');
});

t.test(
  'vrrpd run refuses a config with use_ipvlan: exit 1, the keyword with its line and what to do, nothing opened',
  { skip: requireBuild() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-vmac-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o777);
    const conf = join(dir, 'vmac.conf');
    writeFileSync(
      conf,
      confText('n', instanceConf({ priority: 100, vips: ['10.0.0.1/24'], extra: '    use_ipvlan' }), '    dynamic_interfaces\n'),
    );
    chmodSync(conf, 0o644);
    const stateDir = join(dir, 'state');
    const r = await runDaemon(['run', '-f', conf, '--state-dir', stateDir], process.getuid?.() === 0 ? 4242 : undefined);
    t.equal(r.code, 1, `exit ${r.code}`);
    t.match(r.out, /\(.*vmac\.conf: Line \d+\) not supported by vrrpd: use_ipvlan \(in vrrp_instance\) - configuration refused: /);
    t.match(r.out, /configuration refused \(see above\); nothing was started/);
    t.notOk(existsSync(join(stateDir, 'vrrpd.pid')), 'no pid file');
  },
);

t.test(
  'a reload to an IPv6 config with use_vmac is refused and the running v2 config stays',
  { skip: netnsSkip() || requireBuild() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vd-v3ref-', subnet: NET, hosts: ['a', 'c'] });
    // `debug 2` (no effect in vrrpd): logged once at start-up, and the daemon runs
    const v2 = confText('n', instanceConf({ priority: 150, vips: [`${VIP}/24`], extra: '    debug 2' }));
    const a = await startVrrpd(lab, 'a', v2);
    await waitState(a, 'MASTER', 8000);
    const ignored = a.proc.output.match(/not supported by vrrpd: debug \(in vrrp_instance\) - ignored: /g) ?? [];
    t.equal(ignored.length, 1, 'the ignored keyword is in the log, once');

    const cap = await lab.capture('c', { filter: 'ip proto 112' });
    writeFileSync(
      a.conf,
      confText('n', instanceConf({ priority: 150, vips: ['fd00::100/64'], extra: '    advert_int 0.1\n    use_vmac' })),
    );
    process.kill(a.proc.pid!, 'SIGHUP');
    await a.proc.waitFor(/New config failed validation - keeping the running configuration/, 5000);
    t.match(a.proc.output, REFUSED, 'the reason is logged');
    await sleep(2500);
    const res = await cap.stop();
    const ads = (res.frames as any[])
      .filter((f) => f.ip?.protocol === 112 && f.ip.src === lab.host('a').ip)
      .map((f) => f.ip.payload as Buffer);
    t.ok(ads.length >= 2 && ads.length <= 4, `a's adverts at 1 s, not 0.1 s (${ads.length} in 2.5 s)`);
    t.ok(
      ads.every((p) => p[0]! >> 4 === 2 && p[5] === 1),
      'still VRRPv2, advert_int 1',
    );
    t.equal((await instanceStatus(a)).state, 'MASTER', 'still MASTER');

    // a reload to a config with a refused keyword is refused the same way
    writeFileSync(a.conf, confText('n', instanceConf({ priority: 150, vips: [`${VIP}/24`], extra: '    use_ipvlan' })));
    const before = (a.proc.output.match(/New config failed validation/g) ?? []).length;
    process.kill(a.proc.pid!, 'SIGHUP');
    for (const end = Date.now() + 5000; Date.now() < end; await sleep(100)) {
      if ((a.proc.output.match(/New config failed validation/g) ?? []).length > before) break;
    }
    t.match(
      a.proc.output,
      /not supported by vrrpd: use_ipvlan \(in vrrp_instance\) - configuration refused/,
      'use_ipvlan: the reason is logged',
    );
    t.equal((a.proc.output.match(/New config failed validation/g) ?? []).length, before + 1, 'and the reload refused');
    t.equal((await instanceStatus(a)).state, 'MASTER', 'still MASTER');
  },
);
