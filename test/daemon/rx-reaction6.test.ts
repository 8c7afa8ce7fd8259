/**
 * rx-reaction.test.ts for IPv6 (BENCHMARKS.md "Receive cost"): the IPv6 VRRP socket is read
 * through koffi on a libuv poll (io/uv-poll.ts), whose JavaScript callback, like raw-socket's, runs
 * without a callback scope of its own; the reaction must still not wait for a timer. Lab `vr-rx6-`,
 * 10.238.78.0/24 with IPv6 (fd00:10:238:78::/64): host `m` runs the master (priority 100,
 * advert_int 1, one IPv6 VIP, so VRRPv3), host `x` injects VRRPv3 adverts from its link-local
 * address through vrrpd's own IPv6 transport. Each round: priority 200 (the master steps down and
 * removes its VIP), then priority 0 (it takes over again after Skew_Time). Measured from the
 * advert on the master's eth0 (tcpdump -tt in `m`) to the VIP's deletion (`ip -ts -6 monitor
 * address` in `m`); keepalived 2.2.7 the same way as the reference (skipped when absent).
 */
import t from 'tap';
import { Lab, netnsSkip, pollUntil, sleep } from '../support/netns.js';
import type { NsProcess } from '../support/lab-types.js';
import { keepalivedConf, keepalivedUnavailable, startNode, startWireWatch, type Impl } from '../support/vrrp-harness.js';
import { Vrrp6Transport } from '../../src/io/vrrp6-transport.js';
import { buildTestAdvertV3 } from '../support/vrrp-packet.js';
import { requireBuild } from './helpers.js';

const NET = '10.238.78';
const VIP = 'fd00:10:238:78::100';
const VRID = 78;
const ROUNDS = Number(process.env.RX_REACTION_ROUNDS ?? 10);
const BOUND_MS = Number(process.env.RX_REACTION_BOUND_MS ?? 20);

/** `[2026-12-03T05:40:01.123456]` (TZ=UTC) -> ms. */
function isoMicrosToMs(s: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)$/.exec(s);
  return m ? Date.parse(`${m[1]}Z`) + Number(`0.${m[2]}`) * 1000 : Number.NaN;
}

/** Deletions of VIP in `ip -ts -6 monitor address` output (wall ms). */
function vipDeletions(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^\[([^\]]+)\] Deleted \d+: \S+\s+inet6 ([0-9a-f:]+)\//.exec(line);
    if (m && m[2] === VIP) out.push(isoMicrosToMs(m[1]!));
  }
  return out;
}

/** `ip -ts -6 monitor address` in `host`, once it provably listens (a probe address came and went on lo). */
async function addrMonitor6(lab: Lab, host: string): Promise<NsProcess> {
  const proc = lab.spawn(host, ['ip', '-ts', '-6', 'monitor', 'address'], { env: { ...process.env, TZ: 'UTC' } });
  for (let i = 0; i < 50 && !proc.output.includes('fd00:ffff::1'); i++) {
    await lab.exec(host, ['ip', '-6', 'addr', 'replace', 'fd00:ffff::1/128', 'dev', 'lo', 'nodad']);
    await sleep(20);
    await lab.exec(host, ['ip', '-6', 'addr', 'del', 'fd00:ffff::1/128', 'dev', 'lo'], { allowFail: true });
  }
  if (!proc.output.includes('fd00:ffff::1')) throw new Error(`ip -6 monitor in ${host} never reported the probe:\n${proc.output}`);
  return proc;
}

async function hasVip(lab: Lab): Promise<boolean> {
  return (await lab.addresses6('m')).some((a) => a.local === VIP);
}

async function measure(lab: Lab, impl: Impl, inject: (priority: number) => void): Promise<number[]> {
  const conf = keepalivedConf('rx6-m', { state: 'MASTER', vrid: VRID, priority: 100, advertInt: 1, vips: [`${VIP}/64`] });
  const node = startNode(lab, { impl, host: 'm', conf });
  const mon = await addrMonitor6(lab, 'm');
  const wire = await startWireWatch(lab, 'm', 'eth0', 'ip6 proto 112');
  const out: number[] = [];
  try {
    await pollUntil(() => hasVip(lab), 10_000, `${impl} MASTER with ${VIP}`, 20);
    for (let i = 0; i < ROUNDS; i++) {
      await sleep(200 + Math.random() * 200); // a random phase against the daemon's own timers
      const t0 = Date.now();
      inject(200);
      const wireAt = (): number | undefined =>
        wire.proc.stdout
          .split('\n')
          .map((l) => /^(\d+\.\d+) .*prio 200\b/.exec(l))
          .map((m) => (m ? Number(m[1]) * 1000 : Number.NaN))
          .find((ms) => ms >= t0 - 1);
      // both outputs: the capture's line can reach us after the monitor's
      await pollUntil(
        () => vipDeletions(mon.stdout).some((ms) => ms >= t0 - 1) && wireAt() !== undefined,
        2000,
        `${impl} round ${i}: ${VIP} removed and the advert captured`,
        5,
      );
      const wireMs = wireAt();
      const delMs = vipDeletions(mon.stdout).find((ms) => ms >= t0 - 1);
      if (wireMs === undefined || delMs === undefined) throw new Error(`${impl} round ${i}: no advert on the wire or no deletion`);
      out.push(delMs - wireMs);
      inject(0);
      await pollUntil(() => hasVip(lab), 5000, `${impl} round ${i}: MASTER again`, 20);
    }
  } finally {
    await wire.stop();
    await mon.kill('SIGTERM', 2000);
    await node.stop();
  }
  return out;
}

t.test(
  'IPv6: a MASTER removes its VIP within a bound of a higher-priority advert',
  { skip: netnsSkip() || requireBuild(), timeout: 60_000 },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vr-rx6-', subnet: NET, hosts: ['m', 'x'], ipv6: true });
    const tr = new Vrrp6Transport();
    t.teardown(() => tr.closeAll());
    const ch = lab.inNetns('x', () => tr.open({ ifname: 'eth0' }));
    const src = lab.host('x').linkLocal;
    if (!ch.ok || src === undefined) throw new Error(`injector: ${ch.ok ? 'no link-local address' : ch.error.message}`);
    const inject = (priority: number): void => {
      const r = tr.send(ch.value.key, buildTestAdvertV3(VRID, priority, VIP), { src, dst: 'ff02::12', hopLimit: 255 });
      if (!r.ok) throw new Error(`inject: ${r.error.message}`);
    };

    const impls: Impl[] = keepalivedUnavailable() ? ['vrrpd'] : ['keepalived', 'vrrpd'];
    for (const impl of impls) {
      const ms = await measure(lab, impl, inject);
      const sorted = [...ms].sort((a, b) => a - b);
      t.comment(`${impl} (IPv6): advert on the wire -> VIP deleted, ms: [${sorted.map((x) => x.toFixed(1)).join(', ')}]`);
      t.equal(ms.length, ROUNDS, `${impl}: ${ROUNDS} rounds`);
      t.same(
        ms.filter((x) => !(x >= 0 && x <= BOUND_MS)).map((x) => x.toFixed(2)),
        [],
        `${impl}: the VIP is removed within ${BOUND_MS} ms of the advert in every round`,
      );
    }
  },
);
