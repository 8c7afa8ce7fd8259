/**
 * `use_vmac` pairs, differential (docs/vmac.md): the same scenario run by a keepalived 2.2.7 pair
 * (the reference), a vrrpd pair, and the two mixed pairs, each in its own lab. a has priority 150,
 * b 100, both `use_vmac`, multicast VRRPv2, VRID 51. Steps:
 *  1. election: both start;
 *  2. crash: a is killed (SIGKILL: its VMAC and VIP stay behind, as with any crashed daemon);
 *  3. a starts again and preempts;
 *  4. priority-0 stop: a is stopped (SIGTERM);
 *  5. a starts again and preempts;
 *  6. VMAC deleted behind a's back (`ip link del vrrp.51` in a's namespace while MASTER).
 * After each step, once the holders have settled (at least 4 s, then 2 s without a change), the
 * hosts holding the VIP are recorded; every pair must record keepalived's. Per pair: the VIP is on
 * the holder's vrrp.51; after step 6 a's vrrp.51 is there again as keepalived makes it, and a
 * logged keepalived's lines for the deletion in keepalived's order; on the wire every advert
 * leaves from 00:00:5e:00:01:33 and every GARP request for the VIP has it as Ethernet source and
 * sender MAC. Root; lab vk-vmacp-, 10.239.91.0/24, one lab at a time. About 3 minutes.
 */
import t from 'tap';
import { adverts, assertLabGone, createPair, finish, garps, interopSkip, type T } from './pair.js';
import { keepalivedConf } from '../support/vrrp-harness.js';
import { pollUntil } from '../support/netns.js';
import {
  KEEPALIVED_VMAC,
  label,
  PAIR_KINDS,
  settledHolders,
  startVmacPair,
  VMAC,
  VMAC_MAC,
  vipPlaces,
  vmacOf,
  type PairKind,
} from './vmac-lab.js';

const PREFIX = 'vk-vmacp-';
const SUBNET = '10.239.91';

const conf = (h: 'a' | 'b', priority: number): string =>
  keepalivedConf(`${PREFIX}${h}`, { state: 'BACKUP', vrid: 51, priority, vips: [`${SUBNET}.100/24`], extra: ['use_vmac'] });

const KINDS = PAIR_KINDS;

/** One run: the settled holders after each step, and what a logged when its VMAC was deleted. */
interface RunRecord {
  readonly holders: Record<string, string>;
  readonly deletionLines: string[];
}

/**
 * keepalived's log lines for the deletion, timestamps cut: the states, the deletion and the new VMAC
 * (vrrpd's own extra lines are not among them; its "Netlink reports vrrp.51 up" comes after BACKUP).
 */
const DELETION_RE =
  /(\(VI_1\) Entering (FAULT|BACKUP|MASTER) STATE|Interface vrrp\.51 deleted|\(VI_1\): Success creating VMAC interface vrrp\.51)$/;

function deletionLines(log: string): string[] {
  return log
    .split('\n')
    .map((l) => l.replace(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}: /, '').trim())
    .filter((l) => DELETION_RE.test(l));
}

async function run(t: T, k: PairKind): Promise<RunRecord> {
  const p = await createPair(t, PREFIX, SUBNET);
  const rec: Record<string, string> = {};
  const step = async (name: string): Promise<void> => {
    rec[name] = await settledHolders(p);
    for (const h of ['a', 'b'] as const) {
      if (!rec[name].split('+').includes(h)) continue;
      t.same(await vipPlaces(p, h), [`${VMAC} ${p.vip}/24`], `${name}: the VIP is on ${h}'s ${VMAC}`);
    }
  };
  const pair = await startVmacPair(p, k, conf);
  const { B, startA } = pair;
  let A = pair.A;
  await step('1 election');

  await A.proc.kill('SIGKILL', 1000);
  await step('2 a crashed');

  A = await startA();
  await step('3 a back');

  A.sigterm();
  await step('4 a stopped');
  await A.stop(3000);

  A = await startA();
  await step('5 a back again');

  const from = A.log.length;
  await p.lab.exec('a', ['ip', 'link', 'del', VMAC]);
  await step(`6 ${VMAC} deleted on a`);
  // The MASTER line, once written, ends what a logs for the deletion.
  await pollUntil(() => /Entering MASTER STATE/.test(A.log.slice(from)), 5000, 'a MASTER again in its log').catch(() => undefined);
  const lines = deletionLines(A.log.slice(from));
  t.comment(`a (${k.a}) after the deletion:\n${A.log.slice(from).trim()}`);
  t.same(await vmacOf(p, 'a'), KEEPALIVED_VMAC, `6: a's ${VMAC} is there again, as keepalived makes it`);

  for (const n of [A, B]) await n.stop(3000);
  await finish(p);
  for (const h of ['a', 'b'] as const) {
    const ip = p.lab.host(h).ip;
    const mine = adverts(p.frames).filter((x) => x.src === ip && x.vrid === 51);
    t.ok(mine.length >= 3, `${h} sent adverts (${mine.length})`);
    t.same([...new Set(mine.map((x) => x.srcMac))], [VMAC_MAC], `every advert from ${h} has Ethernet source ${VMAC_MAC}`);
  }
  // Requests only: a kernel's unicast ARP reply during a takeover is not a GARP (vmac.test.ts).
  const g = garps(p.frames).filter((x) => x.ip === p.vip && x.op === 1);
  t.ok(g.length >= 15, `GARP requests for the VIP (${g.length}: one burst per takeover)`);
  t.same(
    [...new Set(g.filter((x) => x.srcMac !== VMAC_MAC || x.senderMac !== VMAC_MAC).map((x) => `${x.srcMac} sender ${x.senderMac}`))],
    [],
    `every GARP request for the VIP is from ${VMAC_MAC}, sender MAC ${VMAC_MAC}`,
  );
  return { holders: rec, deletionLines: lines };
}

t.test('use_vmac pairs: the same holders as a keepalived pair', { skip: interopSkip() }, async (t) => {
  const runs = new Map<PairKind, RunRecord>();
  for (const k of KINDS) {
    await t.test(label(k), async (t) => void runs.set(k, await run(t, k)));
    await assertLabGone(t, PREFIX);
  }
  const ref = runs.get(KINDS[0]!);
  if (ref === undefined) return;
  t.same(
    Object.values(ref.holders),
    ['a', 'a+b', 'a', 'b', 'a', 'a'],
    'keepalived pair: a elected; after the crash b takes over beside the VIP a left behind; a preempts; b after the stop; a preempts; a again after its VMAC was deleted',
  );
  t.same(
    ref.deletionLines,
    [
      '(VI_1) Entering FAULT STATE',
      'Interface vrrp.51 deleted',
      '(VI_1): Success creating VMAC interface vrrp.51',
      '(VI_1) Entering BACKUP STATE',
      '(VI_1) Entering MASTER STATE',
    ],
    'keepalived pair: what keepalived logged for the deletion',
  );
  for (const k of KINDS.slice(1)) {
    const r = runs.get(k);
    if (r === undefined) {
      t.fail(`${label(k)}: the run did not complete`);
      continue;
    }
    t.same(r.holders, ref.holders, `${label(k)}: the holders at each step are the keepalived pair's`);
    t.same(r.deletionLines, ref.deletionLines, `${label(k)}: a logged keepalived's lines for the deletion, in its order`);
  }
});
