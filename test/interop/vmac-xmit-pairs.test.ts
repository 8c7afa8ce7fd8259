/**
 * `use_vmac` with `vmac_xmit_base` (docs/vmac.md), differential: the same scenario run by a
 * keepalived 2.2.7 pair (the reference) and by pairs with vrrpd on one side, each in its own lab.
 * a has priority 150, b 100, both `use_vmac`, multicast VRRPv2, VRID 51; two configurations:
 *  - both: a and b with `vmac_xmit_base` (keepalived pair, vrrpd a, vrrpd b);
 *  - b only: b with `vmac_xmit_base`, a without (keepalived pair, vrrpd b). a's adverts leave from
 *    the virtual MAC, which is also b's VMAC's: in private mode b's macvlan driver hands them to
 *    b's VMAC only, and b, listening on its parent, never hears a.
 * The scenario and the checks of each run are vmac-xmit-lab.ts's (election, crash of a, a back; the
 * wire's MACs); every pair must record the keepalived pair's holders and data dump VMAC lines. Root; lab vk-vmx-,
 * 10.239.92.0/24, one lab at a time. About 2 minutes.
 */
import t from 'tap';
import { VRRPD_IMPL, assertLabGone, interopSkip } from './pair.js';
import { keepalivedConf } from '../support/vrrp-harness.js';
import { label, runXmit, type Host, type PairKind, type XmitRun } from './vmac-xmit-lab.js';

const PREFIX = 'vk-vmx-';
const SUBNET = '10.239.92';
delete process.env.TMPDIR; // the daemons dump to /tmp (each node's private /tmp)

interface Setup extends XmitRun {
  readonly name: string;
}

const setup = (name: string, xmit: readonly Host[]): Setup => ({
  name,
  prefix: PREFIX,
  subnet: SUBNET,
  xmit,
  conf: (_p, h, priority) =>
    keepalivedConf(`${PREFIX}${h}`, {
      state: 'BACKUP',
      vrid: 51,
      priority,
      vips: [`${SUBNET}.100/24`],
      extra: xmit.includes(h) ? ['use_vmac', 'vmac_xmit_base'] : ['use_vmac'],
    }),
});

const KK: PairKind = { a: 'keepalived', b: 'keepalived' };
const RUNS: ReadonlyArray<{ setup: Setup; kinds: readonly PairKind[] }> = [
  {
    setup: setup('both with vmac_xmit_base', ['a', 'b']),
    kinds: [KK, { a: VRRPD_IMPL, b: 'keepalived' }, { a: 'keepalived', b: VRRPD_IMPL }],
  },
  { setup: setup('b only with vmac_xmit_base', ['b']), kinds: [KK, { a: 'keepalived', b: VRRPD_IMPL }] },
];

t.test('use_vmac with vmac_xmit_base: the same holders as a keepalived pair', { skip: interopSkip() }, async (t) => {
  for (const { setup, kinds } of RUNS) {
    const runs = new Map<PairKind, Record<string, string>>();
    for (const k of kinds) {
      await t.test(`${setup.name}: ${label(k)}`, async (t) => void runs.set(k, await runXmit(t, setup, k)));
      await assertLabGone(t, PREFIX);
    }
    const ref = runs.get(KK);
    if (ref === undefined) continue;
    t.comment(`${setup.name}: keepalived pair ${JSON.stringify(ref)}`);
    for (const k of kinds.slice(1)) {
      const r = runs.get(k);
      if (r === undefined) t.fail(`${setup.name}, ${label(k)}: the run did not complete`);
      else t.same(r, ref, `${setup.name}, ${label(k)}: the holders at each step are the keepalived pair's`);
    }
  }
});
