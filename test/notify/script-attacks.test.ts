/**
 * Root, real files, no network: the script and FIFO defences against a local user. The attacker
 * is uid 4242 (no passwd entry), acting through `sh` run with that uid; the daemon's side is the
 * shipped Notifications / Notifier / ScriptScheduler / NotifyFifo with the real SpawnRunner and the
 * real file checks (users from a fixed test database, so nothing depends on this machine's users).
 *
 * - a hook and a vrrp_script that were safe at load, then their directory made world-writable and
 *   the script replaced by the attacker: not run (with and without enable_script_security);
 * - a vrrp_script creates its files 0600 (keepalived's umask 0177);
 * - notify FIFO: a link planted by the attacker is not followed (also when it replaces the FIFO
 *   between mkfifo and open), an attacker-owned FIFO is refused;
 * - the FIFO is chowned to its user under the unit's own capability bounding set (CAP_CHOWN).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import type { FrozenConfig } from '../../src/config/model.js';
import { nodeScriptFs } from '../../src/host/script-fs.js';
import { MemoryLog } from '../../src/log.js';
import { fifoLine, mkfifoLibc, NotifyFifo } from '../../src/notify/fifo.js';
import { Notifications } from '../../src/notify/notifications.js';
import { SpawnRunner } from '../../src/notify/runner.js';
import { openGate, ScriptGate } from '../../src/notify/security.js';
import { FakeClock } from '../support/fake-clock.js';
import { ScriptScheduler } from '../../src/runtime/track-inputs.js';
import { requireBuild } from '../support/build-check.js';
import { oracleHost, testUsers } from '../support/config-host.js';

const ROOT = process.getuid?.() === 0;
const skip = ROOT ? false : 'needs root (acts as uid 4242, changes owners)';
const ATTACKER = 4242;
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Run a shell snippet as the attacker (uid/gid 4242, no supplementary groups). */
function asAttacker(script: string): void {
  const r = spawnSync('/bin/sh', ['-c', script], { uid: ATTACKER, gid: ATTACKER, encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`attacker script failed (${r.status}): ${r.stderr}`);
}

/** A fresh root-owned 0755 directory under /tmp (the attacker can traverse it, not write it). */
function workDir(t: { teardown(fn: () => void): void }, name: string): string {
  const d = mkdtempSync(join('/tmp', `vs-${name}-`));
  chmodSync(d, 0o755);
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function config(text: string, dir: string): FrozenConfig {
  const f = join(dir, 'keepalived.conf');
  writeFileSync(f, text);
  const r = loadConfig(f, oracleHost());
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}

const realGate = (log: MemoryLog): ScriptGate => new ScriptGate({ log, fs: nodeScriptFs(), users: testUsers() });

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

for (const security of [true, false]) {
  t.test(
    `a hook swapped by another user after load is not run (enable_script_security ${security ? 'on' : 'off'})`,
    { skip },
    async (t) => {
      const d = workDir(t, 'hook');
      const hooks = join(d, 'hooks');
      const out = join(d, 'out');
      mkdirSync(hooks, { mode: 0o755 });
      mkdirSync(out);
      chmodSync(out, 0o1777);
      const master = join(hooks, 'master.sh');
      writeFileSync(master, `#!/bin/sh\necho "$(id -u) master" >> ${out}/ran\n`, { mode: 0o755 });
      const cfg = config(
        `global_defs {\n${security ? '    enable_script_security\n' : ''}    script_user root\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        10.0.0.100/24\n    }\n    notify_master ${master}\n}\n`,
        d,
      );
      t.same(cfg.instances[0]!.notify.master?.argv, [master], 'safe at load: kept');
      const log = new MemoryLog();
      const n = new Notifications({ runner: new SpawnRunner(), log, gate: realGate(log) });
      n.configure(cfg);
      n.notify('INSTANCE', 'VI_1', cfg.instances[0]!.notify, 'MASTER', 100);
      await n.idle(5000);
      t.equal(readFileSync(join(out, 'ran'), 'utf8'), '0 master\n', 'the safe hook ran as root');

      // An operator's mistake makes the directory world-writable; the attacker replaces the hook.
      chmodSync(hooks, 0o777);
      asAttacker(`rm -f ${master} && printf '#!/bin/sh\\necho pwned > ${out}/pwned\\n' > ${master} && chmod 755 ${master}`);
      t.equal(statSync(master).uid, ATTACKER, 'the hook now belongs to the attacker');
      n.notify('INSTANCE', 'VI_1', cfg.instances[0]!.notify, 'MASTER', 100);
      await n.idle(5000);
      t.notOk(existsSync(join(out, 'pwned')), 'the replaced hook did not run (as root or at all)');
      const last = n.lastHooks('VI_1').at(-1);
      t.match(
        last,
        {
          hook: 'notify_master',
          exitCode: null,
          error: security
            ? /^not run: Unsafe permissions found for script '.*master\.sh' - disabling\. \(.*\/hooks is owned by uid 0 \(group 0\) with mode 0777/
            : /^not run: its path became writable by a non-root user after the configuration was loaded/,
        },
        'status says why',
      );
      t.ok(
        log.lines.some((l) => l.level === 'warn' && l.msg.startsWith('Refusing to run notify_master (VI_1) script')),
        'logged',
      );
      t.equal(n.hookCounters.refused, 1, 'counted');

      // Also through a link: the directory made safe again, the attacker's file behind a root-owned link.
      chmodSync(hooks, 0o755);
      unlinkSync(master);
      const evil = join(out, 'evil.sh');
      asAttacker(`printf '#!/bin/sh\\necho pwned > ${out}/pwned2\\n' > ${evil} && chmod 755 ${evil}`);
      spawnSync('ln', ['-s', evil, master]);
      n.notify('INSTANCE', 'VI_1', cfg.instances[0]!.notify, 'MASTER', 100);
      await n.idle(5000);
      t.notOk(existsSync(join(out, 'pwned2')), 'a link to a file in a sticky world-writable directory, owned by the attacker: not run');
      t.match(n.lastHooks('VI_1').at(-1), { error: security ? /evil\.sh is owned by uid 4242/ : /became writable by a non-root user/ });
    },
  );
}

t.test(
  'a vrrp_script: safe at start, then swapped: not run and counted as failed; its files are 0600 (umask 0177)',
  { skip },
  async (t) => {
    const d = workDir(t, 'chk');
    const checks = join(d, 'checks');
    const out = join(d, 'out');
    mkdirSync(checks, { mode: 0o755 });
    mkdirSync(out);
    chmodSync(out, 0o1777);
    const chk = join(checks, 'chk.sh');
    writeFileSync(chk, `#!/bin/sh\nn=$(date +%s%N)\ntouch ${out}/created.$n\n`, { mode: 0o755 });
    const cfg = config(
      `global_defs {\n    enable_script_security\n    script_user root\n}\nvrrp_script chk {\n    script ${chk}\n    interval 1\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        10.0.0.100/24\n    }\n    track_script {\n        chk\n    }\n}\n`,
      d,
    );
    const log = new MemoryLog();
    const gate = realGate(log);
    gate.configure(cfg.global, [cfg.scripts[0]!.script]);
    const clock = new FakeClock(0);
    const results: boolean[] = [];
    const s = new ScriptScheduler(cfg.scripts[0]!, {
      clock: {
        nowMs: () => clock.now(),
        setTimer: (ms, cb) => {
          const id = clock.setTimeout(cb, ms);
          return { cancel: () => clock.cancel(id) };
        },
      },
      runner: new SpawnRunner(),
      log,
      gate,
      onResult: (_n, ok) => results.push(ok),
    });
    t.teardown(() => s.stop());
    s.start();
    clock.advance(0);
    await waitFor(() => results.length === 1, 5000);
    t.same(results, [true]);
    const files = (): string[] =>
      spawnSync('ls', [out], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((f) => f.startsWith('created.'));
    t.equal(files().length, 1);
    t.equal(
      statSync(join(out, files()[0]!)).mode & 0o777,
      0o600,
      "keepalived's umask 0177: the script's file is 0600 (vrrpd used to give it 022: 0644)",
    );

    chmodSync(checks, 0o777);
    asAttacker(`rm -f ${chk} && printf '#!/bin/sh\\necho pwned > ${out}/pwned\\n' > ${chk} && chmod 755 ${chk}`);
    clock.advance(1000);
    await waitFor(() => results.length === 2, 5000);
    await new Promise((r) => setTimeout(r, 200));
    t.same(results, [true, false], 'refused: a failed run (fail closed)');
    t.notOk(existsSync(join(out, 'pwned')), 'never ran');
    t.equal(s.refused, 1);
    t.ok(log.messages().some((m) => /^VRRP_Script\(chk\) failed \(not run: Unsafe permissions found for script/.test(m)));
  },
);

t.test('notify FIFO: a link planted by another user is not followed; the target is untouched', { skip }, async (t) => {
  const d = workDir(t, 'fifo');
  const shared = join(d, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777); // like /tmp
  const secretDir = join(d, 'secret');
  mkdirSync(secretDir, { mode: 0o700 });
  const target = join(secretDir, 'shadow');
  writeFileSync(target, 'precious\n', { mode: 0o600 });
  const path = join(shared, 'vrrp.fifo');
  asAttacker(`ln -s ${target} ${path}`);
  const log = new MemoryLog();
  const f = new NotifyFifo({ path, user: null, group: null }, null, { log, gate: openGate(log), settings: { umask: 0o177 } });
  f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
  f.close();
  t.match(f.stats(), { written: 0, dropped: 1, refused: 'the path is a symbolic link (not followed)' });
  t.equal(readFileSync(target, 'utf8'), 'precious\n', 'the target was not written');
  t.equal(statSync(target).mode & 0o777, 0o600, 'nor re-permissioned');
  t.ok(log.lines.some((l) => l.level === 'warn' && l.msg === `Refusing notify fifo ${path}: the path is a symbolic link (not followed)`));
});

t.test(
  'notify FIFO: a link swapped in between mkfifo and open (a directory the attacker can write) is not followed',
  { skip },
  async (t) => {
    const d = workDir(t, 'race');
    const state = join(d, 'state');
    mkdirSync(state);
    spawnSync('chown', [`${ATTACKER}:${ATTACKER}`, state]); // "a state directory a script_user can write"
    const secretDir = join(d, 'secret');
    mkdirSync(secretDir, { mode: 0o700 });
    const target = join(secretDir, 'config');
    writeFileSync(target, 'precious\n', { mode: 0o600 });
    const path = join(state, 'vrrp.fifo');
    const log = new MemoryLog();
    // The attacker wins the race deterministically: right after our mkfifo, before our open.
    const mkfifo = (p: string, mode: number): number => {
      const rc = mkfifoLibc(p, mode);
      asAttacker(`rm -f ${p} && ln -s ${target} ${p}`);
      return rc;
    };
    const f = new NotifyFifo({ path, user: null, group: null }, null, { log, gate: openGate(log), settings: { umask: 0o177 }, mkfifo });
    f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
    f.close();
    t.match(
      f.stats(),
      { written: 0, refused: 'the path is a symbolic link (not followed)' },
      'O_NOFOLLOW (the old open followed it and wrote the line into the target)',
    );
    t.equal(readFileSync(target, 'utf8'), 'precious\n');
  },
);

t.test('notify FIFO: an existing FIFO owned by another user is refused', { skip }, async (t) => {
  const d = workDir(t, 'own');
  const shared = join(d, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const path = join(shared, 'vrrp.fifo');
  asAttacker(`mkfifo -m 0666 ${path}`);
  const log = new MemoryLog();
  const f = new NotifyFifo({ path, user: null, group: null }, null, { log, gate: openGate(log), settings: { umask: 0o177 } });
  f.write(fifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
  f.close();
  t.match(
    f.stats(),
    { written: 0, refused: /^the FIFO is owned by uid 4242, not by root or its user \(uid 0\)/ },
    "no VRRP line goes into the attacker's pipe (the old code wrote them)",
  );
  t.ok(existsSync(path), 'not ours: left in place');
});

t.test(
  "notify FIFO: created 0600 and chowned to its user under the unit's capability bounding set",
  {
    skip: skip || (spawnSync('setpriv', ['--version']).status === 0 ? false : 'needs setpriv') || requireBuild(),
  },
  async (t) => {
    const unit = readFileSync(join(REPO, 'systemd/vrrpd.service'), 'utf8');
    const caps = /^CapabilityBoundingSet=(.*)$/m.exec(unit)?.[1]?.trim().split(/\s+/) ?? [];
    t.ok(caps.length > 0, `the unit's bounding set: ${caps.join(' ')}`);
    const d = workDir(t, 'chown');
    const path = join(d, 'vrrp.fifo');
    // The daemon's code, in a process holding exactly the capabilities systemd leaves it.
    const code = `
    import { NotifyFifo } from ${JSON.stringify(join(REPO, 'dist/notify/fifo.js'))};
    import { ScriptGate } from ${JSON.stringify(join(REPO, 'dist/notify/security.js'))};
    import { userDbFromFiles } from ${JSON.stringify(join(REPO, 'dist/config/script-user.js'))};
    const lines = [];
    const log = { debug() {}, info() {}, warn: (_f, m) => lines.push(m), error: (_f, m) => lines.push(m), child() { return log; } };
    const gate = new ScriptGate({ log, fs: null, users: userDbFromFiles('root:x:0:0::/:/bin/sh\\nfifouser:x:${ATTACKER}:${ATTACKER}::/:/bin/false\\n', 'root:x:0:\\n') });
    gate.configure({ scriptUser: null, scriptGroup: null, enableScriptSecurity: false, umask: 0o177 });
    const f = new NotifyFifo({ path: ${JSON.stringify(path)}, user: 'fifouser', group: null }, null, { log, gate, settings: { umask: 0o177 } });
    console.log(JSON.stringify({ stats: f.stats(), lines }));
  `;
    const bset = ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');
    const r = spawnSync('setpriv', [`--bounding-set=${bset}`, '--inh-caps=-all', process.execPath, '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    t.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { stats: { refused: string | null }; lines: string[] };
    t.same(got.lines, [], 'no warning (without CAP_CHOWN: "Failed to set uid:gid ... EPERM (the daemon needs CAP_CHOWN)")');
    const st = statSync(path);
    t.ok(st.isFIFO());
    t.equal(st.uid, ATTACKER, "owned by the FIFO's user, so its reader can open it");
    t.equal(st.mode & 0o777, 0o600, "keepalived's 0644 & ~0177");
  },
);
