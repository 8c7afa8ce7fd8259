/**
 * Interop, MASTER -> FAULT, vrrpd against the running keepalived 2.2.7 on the same config and the
 * same events: a track_file (weight 0) faults VI_1, and its sync group takes VI_2 to FAULT with it.
 * Each implementation in turn on host a, with `-D`; host b captures the wire. Compared: the
 * priority-0 adverts each instance sends on the way (keepalived sends two for the instance that
 * faulted and one for the synced member), the `sent 0 priority` log lines, and Priority Zero Sent in
 * the SIGUSR2 stats dump. Root; lab vk-fz0-, 10.236.47.0/24. About 30 s.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { Lab, pollUntil, sleep } from '../support/netns.js';
import { startNode, startWireWatch, STATE_RE, waitForNth, type Impl } from '../support/vrrp-harness.js';
import { interopSkip, VRRPD_IMPL } from './pair.js';

const PREFIX = 'vk-fz0-';
const SUBNET = '10.236.47';
const VRIDS = { VI_1: 47, VI_2: 48 } as const;

const instance = (name: string, vrid: number, vip: string, extra: string): string => `vrrp_instance ${name} {
  state MASTER
  interface eth0
  virtual_router_id ${vrid}
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${vip}/24
  }
${extra}}
`;

const CONF = `global_defs {
  router_id FZ0
}
track_file flt {
  file /tmp/flt
  weight 0
}
${instance('VI_1', VRIDS.VI_1, `${SUBNET}.100`, '  track_file {\n    flt\n  }\n')}
${instance('VI_2', VRIDS.VI_2, `${SUBNET}.101`, '')}
vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
}
`;

interface Seen {
  /** Priority-0 adverts on the wire, per instance. */
  wire: Record<keyof typeof VRIDS, number>;
  /** `sent 0 priority` log lines, per instance. */
  logged: Record<keyof typeof VRIDS, number>;
  /** Priority Zero Sent in the stats dump, per instance. */
  counted: Record<keyof typeof VRIDS, number>;
}

function priorityZeroSent(stats: string, name: string): number {
  const block = stats.split(/^(?=VRRP Instance: )/m).find((b) => b.startsWith(`VRRP Instance: ${name}\n`)) ?? '';
  return Number(/Priority Zero:\n(?:\s{4}.*\n)*?\s{4}Sent: (\d+)/.exec(block)?.[1] ?? NaN);
}

async function run(t: Test, lab: Lab, impl: Impl): Promise<Seen> {
  const wire = await startWireWatch(lab, 'b', 'eth0', 'proto 112');
  t.teardown(() => wire.stop());
  const n = startNode(lab, { impl, host: 'a', conf: CONF, files: { '/tmp/flt': { content: '0\n' } }, args: ['-D'] });
  t.teardown(() => n.stop(3000).then(() => {}));
  await pollUntil(
    () => /\(VI_1\) Entering MASTER STATE/.test(n.log) && /\(VI_2\) Entering MASTER STATE/.test(n.log),
    10_000,
    'both MASTER',
  );
  await sleep(1500);
  writeFileSync(n.realPath('/tmp/flt'), '1\n');
  await waitForNth(n, STATE_RE.fault, 0, 5000);
  await pollUntil(() => /\(VI_2\) Entering FAULT STATE/.test(n.log), 5000, 'VI_2 FAULT');
  await sleep(1000);
  const statsFile = n.realPath('/tmp/keepalived.stats');
  process.kill(n.proc.pid!, 'SIGUSR2');
  await pollUntil(() => existsSync(statsFile) && /VI_2/.test(readFileSync(statsFile, 'utf8')), 3000, 'stats dump');
  await sleep(200);
  const stats = readFileSync(statsFile, 'utf8');
  const r = await n.stop(3000);
  t.equal(r.killed, false, `${impl} stopped on SIGTERM`);
  await wire.stop();
  const zeros = wire.view().adverts.filter((a) => a.prio === 0);
  const lines = n.log.split('\n');
  const per = (f: (name: keyof typeof VRIDS) => number): Record<keyof typeof VRIDS, number> => ({ VI_1: f('VI_1'), VI_2: f('VI_2') });
  return {
    wire: per((name) => zeros.filter((a) => a.vrid === VRIDS[name]).length),
    logged: per((name) => lines.filter((l) => l.includes(`(${name}) sent 0 priority`)).length),
    counted: per((name) => priorityZeroSent(stats, name)),
  };
}

t.test(
  'MASTER -> FAULT, directly and through the sync group: priority 0 as keepalived sends, logs and counts it',
  { skip: interopSkip() },
  async (t) => {
    const lab = await Lab.create(t, { prefix: PREFIX, subnet: SUBNET, hosts: ['a', 'b'] });
    let k: Seen | undefined;
    let v: Seen | undefined;
    await t.test('keepalived', async (t) => {
      k = await run(t, lab, 'keepalived');
    });
    await t.test(VRRPD_IMPL, async (t) => {
      v = await run(t, lab, VRRPD_IMPL);
    });
    if (!k || !v) return;
    t.comment(`keepalived ${JSON.stringify(k)}`);
    t.comment(`${VRRPD_IMPL} ${JSON.stringify(v)}`);
    t.ok(k.wire.VI_1 >= 1 && k.wire.VI_2 >= 1, 'keepalived sent priority 0 for both instances (the capture works)');
    t.same(v.wire, k.wire, 'the same priority-0 adverts on the wire');
    t.same(v.logged, k.logged, 'the same "sent 0 priority" lines');
    t.same(v.counted, k.counted, 'the same Priority Zero Sent');
  },
);
