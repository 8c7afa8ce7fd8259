// The state machine under VRRPv3 (RFC 5798 6.4 as keepalived 2.2.7 runs it): the Master_Down_Interval
// and Skew_Time scale with the Master_Adver_Interval, which a backup learns from the master's adverts
// (test/fixtures/v3/README.md: a priority-100 backup at advert_int 1 took over 1806 ms after a
// 50 cs master went silent). v2 instances are unchanged (fsm.test.ts).
import t from 'tap';
import { step } from '../../src/protocol/fsm.js';
import type { FsmEvent, InstanceSnapshot } from '../../src/protocol/fsm-types.js';
import type { AdvertV3 } from '../../src/protocol/types.js';
import { HIGHER_IP, LOWER_IP, ME, VIP, inBackup, inMaster, params, rx, run } from '../support/fsm-fixtures.js';

const V3 = params({ version: 3, adverIntMs: 1000 });

function adv3(priority: number, maxAdverIntCs: number): AdvertV3 {
  return { version: 3, type: 1, family: 'ipv4', vrid: 51, priority, maxAdverIntCs, vips: [VIP] };
}
function rx3(priority: number, cs: number, srcIp: string, nowMs: number): FsmEvent {
  return { type: 'advert', advert: adv3(priority, cs), srcIp, nowMs };
}
const downAt = (s: InstanceSnapshot): number | undefined => s.timers['master-down'];

t.test('v3 BACKUP at its own interval: RFC 5798 6.1 down interval in keepalived us / 1000', async (t) => {
  t.equal(downAt(inBackup(V3)), 3609.375, 'advert_int 1, priority 100');
  t.equal(downAt(inBackup(params({ version: 3, adverIntMs: 100 }))), 360.937, 'advert_int 0.1: about 361 ms');
  t.equal(downAt(inBackup(params({ version: 2, adverIntMs: 1000 }))), 3609, 'v2 unchanged (whole ms)');
});

t.test('a v3 BACKUP adopts the master interval, and times out on it', async (t) => {
  const r = step(inBackup(V3), rx3(200, 50, HIGHER_IP, 1000));
  t.equal(r.snapshot.masterAdverIntMs, 500);
  t.equal(downAt(r.snapshot), 1000 + 1804.687, '3 * 500 + 156 * 500 / 256 ms after the advert (observed 1806)');
  const silent = step(r.snapshot, { type: 'timer', timer: 'master-down', nowMs: 2804.687 });
  t.equal(silent.snapshot.state, 'MASTER');
  t.equal(silent.snapshot.timers.adver, 2804.687 + 1000, 'a MASTER advertises at its own advert_int');
});

t.test('interval 0 is adopted: the down timer expires at once (keepalived flaps)', async (t) => {
  const r = step(inBackup(V3), rx3(200, 0, HIGHER_IP, 1000));
  t.equal(r.snapshot.masterAdverIntMs, 0);
  t.equal(downAt(r.snapshot), 1000);
});

t.test('what does not teach the interval: priority 0, a lower priority it preempts, a v2 instance', async (t) => {
  const learned = step(inBackup(V3), rx3(200, 50, HIGHER_IP, 1000)).snapshot;
  const zero = step(learned, rx3(0, 7, HIGHER_IP, 1100));
  t.equal(zero.snapshot.masterAdverIntMs, 500, 'priority 0 keeps the learned interval');
  t.equal(downAt(zero.snapshot), 1100 + 304.687, 'and waits Skew_Time at it');
  const lower = step(learned, rx3(50, 7, LOWER_IP, 1100));
  t.equal(lower.snapshot.masterAdverIntMs, 500, 'lower priority: discarded');
  t.equal(downAt(lower.snapshot), downAt(learned), 'its timer keeps running');
  const nopreempt = step(inBackup(params({ version: 3, nopreempt: true })), rx3(50, 7, LOWER_IP, 1100));
  t.equal(nopreempt.snapshot.masterAdverIntMs, 70, 'nopreempt accepts the lower priority master and its interval');
  const v2 = step(inBackup(params({ version: 2 })), rx3(200, 50, HIGHER_IP, 1000));
  t.equal(v2.snapshot.masterAdverIntMs, null, 'v2 never learns');
  t.equal(downAt(step(inBackup(V3), rx(200, HIGHER_IP, 1000)).snapshot), 1000 + 3609.375, 'a v2-shaped advert teaches nothing');
});

t.test('a v3 MASTER that yields learns the new master interval', async (t) => {
  const m = inMaster(V3);
  const r = step(m, rx3(200, 20, HIGHER_IP, 5000));
  t.equal(r.snapshot.state, 'BACKUP');
  t.equal(r.snapshot.masterAdverIntMs, 200);
  t.equal(downAt(r.snapshot), 5000 + 600 + 121.875, '3 * 200 + 156 * 200 / 256');
  const lower = step(m, rx3(50, 20, LOWER_IP, 5000));
  t.equal(lower.snapshot.masterAdverIntMs, null, 'a lower priority advert teaches nothing');
});

t.test('back to its own interval when it enters BACKUP from FAULT', async (t) => {
  const withTrack = params({ version: 3, trackInterfaces: [{ name: 'eth0', weight: 0, reverse: false }] });
  const learned = step(inBackup(withTrack), rx3(200, 50, HIGHER_IP, 10)).snapshot;
  const fault = step(learned, { type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: 100 }).snapshot;
  t.equal(fault.state, 'FAULT');
  const back = step(fault, { type: 'track', update: { kind: 'interface', name: 'eth0', up: true }, nowMs: 200 }).snapshot;
  t.equal(back.state, 'BACKUP');
  t.equal(back.masterAdverIntMs, null);
  t.equal(downAt(back), 200 + 3609.375);
});

t.test('IPv6 tie-break: equal priority, the higher address (128-bit, big-endian) wins', async (t) => {
  const p6 = params({ version: 3, srcIp: 'fe80::2' });
  const m = inMaster(p6);
  const higher = step(m, { type: 'advert', advert: { ...adv3(100, 100), family: 'ipv6' }, srcIp: 'fe80::3', nowMs: 5000 });
  t.equal(higher.snapshot.state, 'BACKUP');
  const lower = step(m, { type: 'advert', advert: { ...adv3(100, 100), family: 'ipv6' }, srcIp: 'fe80::1', nowMs: 5000 });
  t.equal(lower.snapshot.state, 'MASTER');
  t.equal(run(inMaster(params({ srcIp: ME })), rx(100, HIGHER_IP, 5000)).snapshot.state, 'BACKUP', 'IPv4 unchanged');
});
