/**
 * `vrrpd run` without CAP_NET_RAW or CAP_NET_ADMIN stops at once with exit 7 and a message naming
 * what is missing (issue 14: before, it started, failed to open its sockets and sat in FAULT with
 * the reason in a JSON field). The capability parse is pure; the daemon case drops the capability
 * from the bounding set with util-linux's setpriv (root only), nothing is opened (no state dir).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { missingCapabilities } from '../../src/host/capabilities.js';
import { EXIT_NO_CAPABILITY } from '../../src/cli/run.js';
import { requireBuild, VRRPD_ARGV } from './helpers.js';

t.test('missingCapabilities reads CapEff', async (t) => {
  const status = (hex: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${hex}\nCapBnd:\t000001ffffffffff\n`;
  t.same(missingCapabilities(status('000001ffffffffff')), [], 'root: none missing');
  t.same(missingCapabilities(status('0000000000000000')), ['CAP_NET_RAW', 'CAP_NET_ADMIN'], 'none held');
  t.same(missingCapabilities(status('0000000000001000')), ['CAP_NET_RAW'], 'CAP_NET_ADMIN (bit 12) only');
  t.same(missingCapabilities(status('0000000000002000')), ['CAP_NET_ADMIN'], 'CAP_NET_RAW (bit 13) only');
  t.equal(missingCapabilities('Name:\tx\n'), null, 'no CapEff line: cannot tell');
});

const rootSkip = process.getuid?.() === 0 ? false : 'needs root (setpriv drops from the bounding set)';
const setprivSkip = spawnSync('setpriv', ['--version']).status === 0 ? false : 'needs util-linux setpriv';

t.test(
  'vrrpd run without CAP_NET_RAW: exit 7 at once, the capability named, nothing opened',
  { skip: rootSkip || setprivSkip || requireBuild() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-caps-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const conf = join(dir, 'k.conf');
    writeFileSync(
      conf,
      'global_defs {\n  dynamic_interfaces\n}\nvrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n',
    );
    const state = join(dir, 'state');
    for (const [drop, named] of [
      ['-net_raw', /missing capability CAP_NET_RAW: /],
      ['-net_raw,-net_admin', /missing capabilities CAP_NET_RAW, CAP_NET_ADMIN: /],
    ] as const) {
      const r = spawnSync('setpriv', [`--bounding-set=${drop}`, '--', ...VRRPD_ARGV, 'run', '-f', conf, '--state-dir', state], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      t.equal(r.status, EXIT_NO_CAPABILITY, `${drop}: exit ${EXIT_NO_CAPABILITY}`);
      t.match(r.stderr, named);
      t.match(r.stderr, /CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW/, 'and how the unit grants them');
      t.notOk(existsSync(state), 'nothing opened (no state directory)');
    }
  },
);
