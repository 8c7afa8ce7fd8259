/**
 * Hostile configs on reload never stop the adverts (issue 10, item 4), on real namespaces (prefix
 * vd-rhost-, subnet 10.238.4.0/24): a vrrpd MASTER (a) with a vrrpd BACKUP peer (b) and a capture on
 * c. a's config is replaced in turn by each hostile config and a gets SIGHUP:
 *   1. an include cycle (two files that `include *.conf`, so each includes itself and the other);
 *   2. a brace-expansion bomb in an include pattern (2^30 alternatives);
 *   3. the same config followed by 15 MB of comment lines;
 *   4. a FIFO in place of the config file (nothing ever written to it).
 * Before the fix each of them hung the event loop (the reload parsed on it): 1, 2 and 4 for ever, 3
 * for ~9 s; a stopped sending adverts and b took over. Now each ends within 2 s with its message in
 * the log (a cycle is reported and the rest of the config applied; the bomb and the FIFO are refused,
 * the running config stays; the big file is read in the loader thread), the capture on c shows a's
 * adverts every second throughout, b never leaves BACKUP and a's status is unchanged.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import {
  VRRPD_ARGV,
  adverts,
  requireBuild,
  confText,
  control,
  hasAddress,
  instanceConf,
  instanceStatus,
  startVrrpd,
  waitState,
  type VrrpdNode,
} from './helpers.js';

const NET = '10.238.4';
const VIP = `${NET}.100`;

/** Output the daemon wrote since `mark` (stdout and stderr). */
function since(node: VrrpdNode, mark: { o: number; e: number }): string {
  return node.proc.stdout.slice(mark.o) + node.proc.stderr.slice(mark.e);
}

t.test(
  'hostile configs on SIGHUP: adverts keep their 1 s cadence, no takeover, the running config stays',
  { skip: netnsSkip() || requireBuild() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vd-rhost-', subnet: NET, hosts: ['a', 'b', 'c'] });
    const conf = (prio: number): string => confText('n', instanceConf({ priority: prio, vips: [`${VIP}/24`], pass: 'pw' }));
    const good = conf(150);
    const a = await startVrrpd(lab, 'a', good);
    const b = await startVrrpd(lab, 'b', conf(100));
    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 1000);
    const before = await instanceStatus(a);

    const dir = join(lab.tmpDir, 'hostile');
    mkdirSync(join(dir, 'cyc'), { recursive: true });
    writeFileSync(join(dir, 'cyc', '1.conf'), 'include *.conf\n');
    writeFileSync(join(dir, 'cyc', '2.conf'), 'include *.conf\n');
    const cases: { name: string; install: () => void; log: RegExp }[] = [
      {
        name: 'include cycle',
        install: () => writeFileSync(a.conf, `${good}include ${join(dir, 'cyc')}/*.conf\n`),
        log: /Configuration file '2\.conf' is already being read \(include cycle\) - skipping[\s\S]*Reload complete/,
      },
      {
        name: 'brace bomb',
        install: () => writeFileSync(a.conf, `${good}include ${dir}/x${'{a,b}'.repeat(30)}.conf\n`),
        log: /has more than 1024 brace alternatives \(MAX_BRACE_ALTERNATIVES\) - configuration refused[\s\S]*New config failed validation - keeping the running configuration/,
      },
      {
        name: '15 MB of comments',
        // the file: 7.8 million short comment lines (before: ~9 s and ~900 MB on the event loop)
        install: () => writeFileSync(a.conf, good + '#\n'.repeat((15 << 20) / 2)),
        log: /Reload complete/,
      },
      {
        name: 'a FIFO in place of the config',
        install: () => {
          rmSync(a.conf);
          execFileSync('mkfifo', [a.conf]);
        },
        log: /is not a regular file[\s\S]*New config failed validation - keeping the running configuration/,
      },
    ];

    const cap = await lab.capture('c', { filter: 'ip proto 112' });
    const capStart = Date.now();
    await sleep(1500);
    for (const c of cases) {
      c.install();
      const mark = { o: a.proc.stdout.length, e: a.proc.stderr.length };
      const t0 = Date.now();
      process.kill(a.proc.pid!, 'SIGHUP');
      await pollUntil(() => c.log.test(since(a, mark)), 5000, `${c.name}: its message in the log`);
      const ms = Date.now() - t0;
      t.ok(ms < 2000, `${c.name}: logged within 2 s (${ms} ms)`);
      // a second of adverts after each reload, so a stall would show as a gap
      await sleep(1500);
      t.equal((await instanceStatus(b)).state, 'BACKUP', `${c.name}: b still BACKUP`);
    }
    const capMs = Date.now() - capStart;
    const res = await cap.stop();
    const ads = adverts(res.frames);
    const fromA = ads.filter((x) => x.src === lab.host('a').ip);
    const gaps = fromA.slice(1).map((x, i) => x.tMs - fromA[i]!.tMs);
    const maxGap = Math.max(...gaps);
    t.comment(`adverts from a: ${fromA.length} in ${capMs} ms, largest gap ${maxGap.toFixed(1)} ms over the ${cases.length} reloads`);
    t.ok(fromA.length >= Math.floor(capMs / 1000) - 1, 'an advert every second of the capture');
    t.ok(maxGap < 1100, 'no gap longer than the advert interval');
    t.ok(
      fromA.every((x) => x.priority === 150),
      'never priority 0 (the instance was never removed)',
    );
    t.equal(ads.filter((x) => x.src === lab.host('b').ip).length, 0, 'no advert from b: no takeover');
    t.notMatch(b.proc.output, /Entering MASTER STATE/, 'b never became MASTER');
    const after = await instanceStatus(a);
    t.equal(after.state, 'MASTER');
    t.equal(after.effectivePriority, before.effectivePriority);
    t.same(after.vips, [{ address: VIP, present: true }], 'same VIP, present');
    t.same(before.vips, after.vips);
    t.ok(await hasAddress(lab, 'a', VIP), 'a still holds the VIP');
    t.equal((await control(a, 'ping')).ok, true, 'the control socket still answers');

    await t.test('a hostile file at start: start-up ends within 2 s either way', async (t) => {
      const run = (name: string, text: string) => {
        const file = join(dir, `${name}.conf`);
        writeFileSync(file, text);
        const stateDir = join(lab.tmpDir, `state-c-${name}`);
        mkdirSync(stateDir, { recursive: true });
        return lab.spawn('c', [...VRRPD_ARGV, 'run', '-f', file, '--log-console', '--state-dir', stateDir]);
      };
      // refused: the bomb is fatal, nothing is started
      const t0 = Date.now();
      const bomb = run('bomb', `${conf(90)}include ${dir}/x${'{a,b}'.repeat(30)}.conf\n`);
      await Promise.race([bomb.exited, sleep(5000)]);
      t.ok(Date.now() - t0 < 2000, `the bomb refused in ${Date.now() - t0} ms`);
      t.equal(bomb.exitCode, 5);
      t.match(bomb.output, /MAX_BRACE_ALTERNATIVES\) - configuration refused/);
      t.match(bomb.output, /configuration refused \(see above\); nothing was started/);
      // started: a cycle is reported and not followed
      const t1 = Date.now();
      const cyc = run('cycle', `${conf(90)}include ${join(dir, 'cyc')}/*.conf\n`);
      t.teardown(() => cyc.kill('SIGKILL', 0));
      await cyc.waitFor(/Startup complete/, 5000);
      t.ok(Date.now() - t1 < 2000, `the cycle started in ${Date.now() - t1} ms`);
      t.match(cyc.output, /Configuration file '1\.conf' is already being read \(include cycle\) - skipping/);
      await cyc.kill('SIGTERM');
      t.equal(cyc.exitCode, 0);
    });
  },
);
