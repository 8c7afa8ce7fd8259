/**
 * `use_vmac` on a unicast instance (docs/vmac.md), differential: keepalived 2.2.7 sets
 * `vmac_xmit_base` on it ("unicast with use_vmac requires vmac_xmit_base - setting"), so the unicast
 * adverts go from the parent and the VIP and its GARPs stay on the VMAC. The same scenario
 * (vmac-xmit-lab.ts: election, crash of a, a back; the wire's MACs) is run by a keepalived pair
 * (the reference) and by pairs with vrrpd on either side, each in its own lab; a and b have
 * `use_vmac`, `unicast_src_ip` their own address and the other as `unicast_peer`, and no
 * `vmac_xmit_base`. Every pair must record the keepalived pair's holders. Root; lab vk-vmu-,
 * 10.239.93.0/24, one lab at a time. About a minute.
 */
import t from 'tap';
import { VRRPD_IMPL, assertLabGone, interopSkip } from './pair.js';
import { keepalivedConf } from '../support/vrrp-harness.js';
import { label, runXmit, type PairKind, type XmitRun } from './vmac-xmit-lab.js';

const PREFIX = 'vk-vmu-';
const SUBNET = '10.239.93';

const UNICAST: XmitRun = {
  prefix: PREFIX,
  subnet: SUBNET,
  xmit: ['a', 'b'],
  conf: (p, h, priority) =>
    keepalivedConf(`${PREFIX}${h}`, {
      state: 'BACKUP',
      vrid: 51,
      priority,
      vips: [`${SUBNET}.100/24`],
      unicastSrc: p.lab.host(h).ip,
      unicastPeers: [p.lab.host(h === 'a' ? 'b' : 'a').ip],
      extra: ['use_vmac'],
    }),
};

const KK: PairKind = { a: 'keepalived', b: 'keepalived' };
const KINDS: readonly PairKind[] = [KK, { a: VRRPD_IMPL, b: 'keepalived' }, { a: 'keepalived', b: VRRPD_IMPL }];

t.test('use_vmac with unicast peers (vmac_xmit_base forced): the same holders as a keepalived pair', { skip: interopSkip() }, async (t) => {
  const runs = new Map<PairKind, Record<string, string>>();
  for (const k of KINDS) {
    await t.test(label(k), async (t) => void runs.set(k, await runXmit(t, UNICAST, k)));
    await assertLabGone(t, PREFIX);
  }
  const ref = runs.get(KK);
  if (ref === undefined) return;
  t.same(
    [ref['1 election'], ref['2 a crashed'], ref['3 a back']],
    ['a', 'a+b', 'a'],
    'keepalived pair: a, then a and b (a left its VIP), then a',
  );
  // the records also hold each daemon's VMAC dump lines: a mixed pair's equal the keepalived pair's
  t.match(
    ref['dump a'],
    /Use VMAC, i\/f name vrrp\.51, is_up = true, xmit_base = true/,
    "keepalived's dump of a: the VMAC, sent from the base",
  );
  for (const k of KINDS.slice(1)) {
    const r = runs.get(k);
    if (r === undefined) t.fail(`${label(k)}: the run did not complete`);
    else t.same(r, ref, `${label(k)}: the holders at each step, and the dumps, are the keepalived pair's`);
  }
});
