/**
 * The example deployments under test/fixtures/deployments hang together (every hook a config names
 * is there and executable), the address rewrite the interop tests apply touches addresses only,
 * and, with VRRPD_KEEPALIVED_CORPUS (test/support/corpus.ts), each example config uses the same keywords
 * as the vendor guide's config it stands for.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { corpusAbsent, corpusDir } from '../support/corpus.js';
import { DEPLOYMENTS_DIR, rewriteAddresses, scenarioText } from './scenarios.js';

const VENDOR_SCENARIOS = corpusDir('scenarios');
const CONFIGS = [
  'alibaba-havip-snat-backup.keepalived.conf',
  'alibaba-havip-snat-master.keepalived.conf',
  'tencent-cvm-2018.keepalived.conf',
  'tencent-havip.keepalived.conf',
];
const HOOKS = ['ha_vip_start.sh', 'ha_vip_stop.sh', 'notify_action.sh'];

/** Blocks whose lines are names or addresses, not keywords. */
const LIST_BLOCKS = new Set(['virtual_ipaddress', 'unicast_peer', 'track_interface', 'track_script', 'notification_email', 'group']);

/** The keywords a config uses: first words of uncommented lines, outside blocks that list names. */
function keywords(text: string): string[] {
  const found = new Set<string>();
  const open: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!].*$/, '').trim();
    if (line === '') continue;
    const word = line.split(/\s+/)[0]!;
    if (word === '}') {
      open.pop();
      continue;
    }
    if (!LIST_BLOCKS.has(open[open.length - 1] ?? '') && /^[a-z_]+$/i.test(word)) found.add(word);
    if (line.endsWith('{')) open.push(word === '{' ? '' : word);
  }
  return [...found].sort();
}

t.test('the example deployments: configs, and the hooks they name, executable', async (t) => {
  const files = readdirSync(DEPLOYMENTS_DIR);
  t.same(files.filter((f) => f.endsWith('.conf')).sort(), CONFIGS, 'the four configs');
  for (const h of HOOKS) {
    t.ok(files.includes(h), `${h} is there`);
    t.equal(statSync(join(DEPLOYMENTS_DIR, h)).mode & 0o111, 0o111, `${h} is executable`);
    t.match(scenarioText(h), /^#!\/bin\/bash\n/, `${h} is a bash script`);
  }
  for (const c of CONFIGS) {
    const named = [...scenarioText(c).matchAll(/^\s*notify_\w+\s+"?(\S+?)[\s"]/gm)].map((m) => basename(m[1]!));
    t.ok(named.length >= 4, `${c} names its hooks`);
    t.same(
      [...new Set(named)].filter((h) => !HOOKS.includes(h)),
      [],
      `${c}: every hook it names is in the folder`,
    );
  }
});

t.test('address rewrite', async (t) => {
  const text = scenarioText('tencent-havip.keepalived.conf');
  const out = rewriteAddresses(text, { '10.100.8.16': '10.234.5.1', '10.100.8.14': '10.234.5.2', '10.100.8.250': '10.234.5.135' });
  t.match(out, /unicast_src_ip 10\.234\.5\.1 /);
  t.match(out, /^\s+10\.234\.5\.2\s+#/m);
  t.match(out, /^\s+10\.234\.5\.135\s+#/m);
  t.notMatch(out, /10\.100\.8\./);
  t.equal(out.split('\n').length, text.split('\n').length, 'same lines');
  t.equal(rewriteAddresses('1.2.3.45 1.2.3.4 11.2.3.4', { '1.2.3.4': 'X' }), '1.2.3.45 X 11.2.3.4', 'whole addresses only');
});

t.test('keywords: what the keyword scan counts', async (t) => {
  t.same(
    keywords(
      'global_defs {\n  router_id X # c\n}\n# vrrp_script s\n{\n  script "/x"\n}\nvrrp_instance V {\n  track_script {\n    chk\n  }\n  virtual_ipaddress {\n    1.2.3.4\n  }\n}\n',
    ),
    ['global_defs', 'router_id', 'script', 'track_script', 'virtual_ipaddress', 'vrrp_instance'],
  );
});

// Only with VRRPD_KEEPALIVED_CORPUS: the vendors' originals add a comparison.
if (VENDOR_SCENARIOS !== undefined) {
  t.test('each example config uses the same keywords as the vendor config it stands for', async (t) => {
    for (const c of CONFIGS) {
      t.same(keywords(scenarioText(c)), keywords(readFileSync(join(VENDOR_SCENARIOS, c), 'utf8')), c);
    }
  });
} else t.comment(`${corpusAbsent('scenarios')}: the keyword comparison with the vendors' configs is not made`);
