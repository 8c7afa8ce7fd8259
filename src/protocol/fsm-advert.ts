/**
 * Receiving adverts: which states process them, when the address checks apply, and what BACKUP and
 * MASTER do with an advert that passed the receive checks (RFC 3768 6.4.2, 6.4.3,
 * docs/keepalived-behaviour.md 3.5). Pure.
 */
import type { Advert, AdvertV3, VrrpState } from './types.js';
import type { InstanceSnapshot } from './fsm-types.js';
import { PRIORITY_OWNER, PRIORITY_STOP } from './constants.js';
import { compareIpv4 } from './ipv4-address.js';
import { compareIpv6 } from './ipv6-address.js';
import { snapshotMasterDownMs, snapshotSkewMs, type Step } from './fsm-step.js';
import { garp, hasAddresses, leaveMasterToBackup } from './fsm-transitions.js';
import { reevaluate } from './fsm-priority.js';

/**
 * Whether the receive checks (advert-checks.ts) must apply the address checks (VIP count and VIP set,
 * docs/keepalived-behaviour.md 3.3 steps 8 and 13) to an advert from `srcIp`: always in MASTER; in BACKUP skipped only with
 * `skip_check_adv_addr` and when the advert comes from the last accepted master.
 */
export function addressCheckApplies(s: InstanceSnapshot, srcIp: string): boolean {
  if (s.state !== 'BACKUP') return true;
  return !(s.params.skipCheckAdvAddr && s.master !== null && s.master.ip === srcIp);
}

/** Whether adverts are processed at all in this state (keepalived ignores them in INIT and FAULT). */
export function acceptsAdverts(state: VrrpState): boolean {
  return state === 'BACKUP' || state === 'MASTER';
}

/** An advert that passed the receive checks: counted, then handled by the state it finds. */
export function onAdvert(b: Step, adv: Advert | AdvertV3, srcIp: string): void {
  const state = b.snap.state;
  if (!acceptsAdverts(state)) return; // docs/keepalived-behaviour.md 3.1: INIT/FAULT ignore packets
  if (adv.vrid !== b.p.vrid) throw new Error(`bug: advert for VRID ${adv.vrid} routed to VRID ${b.p.vrid}`);
  b.count('advertRcvd');
  if (adv.priority === PRIORITY_STOP) b.count('priZeroRcvd');
  if (state === 'BACKUP') backupRx(b, adv, srcIp);
  else masterRx(b, adv, srcIp);
}

/**
 * v3 (RFC 5798 6.4.2 / 6.4.3): adopt the advert's Max Adver Int as Master_Adver_Interval. keepalived
 * takes any value, 0 included (test/fixtures/v3/README.md); timing.ts `learnMasterAdverIntCs` is the rule.
 */
function learnInterval(b: Step, adv: Advert | AdvertV3): void {
  if (b.p.version !== 3 || !('maxAdverIntCs' in adv)) return;
  const ms = adv.maxAdverIntCs * 10;
  const current = b.snap.masterAdverIntMs ?? b.p.adverIntMs;
  if (ms === current) return;
  b.log('debug', `advertisement interval updated from ${current}ms to ${ms}ms by master`);
  b.patch({ masterAdverIntMs: ms });
}

/** docs/keepalived-behaviour.md 3.5 BACKUP (`vrrp_state_backup()`), RFC 3768 6.4.2. */
function backupRx(b: Step, adv: Advert | AdvertV3, srcIp: string): void {
  const p = b.p;
  const ours = b.snap.effectivePriority;
  if (adv.priority === PRIORITY_STOP) {
    // RFC 3768 6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the Master_Down_Timer
    // to Skew_Time"
    b.log('debug', 'Backup received priority 0 advertisement');
    // v3: at the Master_Adver_Interval already learned (keepalived does not learn from priority 0)
    b.setTimer('master-down', b.nowMs + snapshotSkewMs(b.snap));
    return;
  }
  const delayRunning = p.preemptDelayMs > 0 && (b.snap.preemptUntilMs === null || b.snap.preemptUntilMs > b.nowMs);
  // keepalived accepts equal priorities in BACKUP: no IP tie-break here (docs/keepalived-behaviour.md 8.2).
  if (p.nopreempt || adv.priority >= ours || delayRunning) {
    if (p.preemptDelayMs > 0 && b.snap.preemptUntilMs === null && adv.priority < ours) {
      b.patch({ preemptUntilMs: b.nowMs + p.preemptDelayMs });
      b.log('debug', `start preempt delay (${(p.preemptDelayMs / 1000).toFixed(6)})`);
    } else if (p.preemptDelayMs > 0 && adv.priority >= ours && b.snap.preemptUntilMs !== null) {
      b.patch({ preemptUntilMs: null });
      b.log('debug', 'stop preempt delay');
    }
    // RFC 3768 6.4.2: "Reset the Master_Down_Timer to Master_Down_Interval"; RFC 5798 6.4.2 first
    // "Set Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT"
    learnInterval(b, adv);
    b.patch({ master: { ip: srcIp, priority: adv.priority }, wantState: 'BACKUP' });
    b.setTimer('master-down', b.nowMs + snapshotMasterDownMs(b.snap));
    return;
  }
  // RFC 3768 6.4.2: "If Preempt_Mode is True and the Priority in the ADVERTISEMENT is less than the
  // local Priority, then: Discard the ADVERTISEMENT" -- the down timer keeps running.
  b.count('lowerPrioDiscarded');
  b.log('info', `received lower priority (${adv.priority}) advert from ${srcIp} - discarding`);
}

/** docs/keepalived-behaviour.md 3.5 MASTER (`vrrp_state_master_rx()`), RFC 3768 6.4.3. */
function masterRx(b: Step, adv: Advert | AdvertV3, srcIp: string): void {
  const p = b.p;
  if (adv.priority === PRIORITY_STOP) {
    // RFC 3768 6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT;
    // Reset the Adver_Timer to Advertisement_Interval"
    b.log('debug', 'Master received priority 0 message');
    b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
    b.setTimer('adver', b.nowMs + p.adverIntMs);
    return;
  }
  // keepalived `vrrp_saddr_cmp()`: numeric, IPv6 as 128-bit big-endian
  const cmp = srcIp.includes(':') ? compareIpv6(srcIp, p.srcIp) : compareIpv4(srcIp, p.srcIp);
  const isHigher = (ours: number): boolean => adv.priority > ours || (adv.priority === ours && cmp > 0);
  if (p.higherPrioSendAdvert && isHigher(b.snap.effectivePriority)) {
    b.emit({ type: 'send-advert', priority: b.snap.effectivePriority });
  }
  if (adv.priority === b.snap.effectivePriority && cmp === 0) {
    b.log('warn', 'WARNING - equal priority advert received from remote host with our IP address.');
  }
  if (adv.priority === PRIORITY_OWNER && p.basePriority === PRIORITY_OWNER && !b.snap.ownerConflict) {
    b.log(
      'error',
      'CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority',
    );
    b.patch({ ownerConflict: true });
    reevaluate(b);
  }
  const ours = b.snap.effectivePriority;
  if (adv.priority < ours || (adv.priority === ours && cmp < 0)) {
    // RFC 3768 6.4.3 "... less than the local Priority ... Discard"; keepalived instead re-asserts:
    // advert, GARP bursts and MASTER_RX_LOWER_PRI (docs/keepalived-behaviour.md 3.5).
    const election = p.lowerPrioNoAdvert ? '' : ', forcing new election';
    b.log('info', `Received advert from ${srcIp} with lower priority ${adv.priority}, ours ${ours}${election}`);
    if (!p.lowerPrioNoAdvert) b.emit({ type: 'send-advert', priority: ours });
    garp(b, 'lower-prio', p.garp.lowerPrioRepeat);
    if (p.garp.lowerPrioDelayMs > 0 && p.garp.lowerPrioRepeat > 0 && hasAddresses(p)) {
      b.setTimer('garp-lower-prio', b.nowMs + p.garp.lowerPrioDelayMs);
    }
    b.emit({ type: 'notify', kind: 'MASTER_RX_LOWER_PRI', priority: ours });
    if (!p.lowerPrioNoAdvert) b.setTimer('adver', b.nowMs + p.adverIntMs);
    return;
  }
  if (isHigher(ours)) {
    // RFC 3768 6.4.3: "If the Priority in the ADVERTISEMENT is greater than the local Priority, or
    // the Priority is equal and the primary IP Address of the sender is greater than the local
    // primary IP Address, then: Cancel Adver_Timer, Set Master_Down_Timer, Transition to Backup".
    const msg =
      adv.priority > ours
        ? `Master received advert from ${srcIp} with higher priority ${adv.priority}, ours ${ours}`
        : `Master received advert from ${srcIp} with same priority ${adv.priority} but higher IP address than ours`;
    b.log('info', msg);
    learnInterval(b, adv); // RFC 5798 6.4.3: Master_Adver_Interval from the advert, then the timer
    b.patch({ master: { ip: srcIp, priority: adv.priority } });
    const reason =
      adv.priority > ours
        ? `higher priority advert from ${srcIp} (${adv.priority} > ${ours})`
        : `equal priority advert from higher IP ${srcIp} (${adv.priority})`;
    leaveMasterToBackup(b, reason, snapshotMasterDownMs(b.snap), false);
    return;
  }
  // Equal priority from our own address: stay, re-arm the advert timer like any received packet.
  if (!p.lowerPrioNoAdvert) b.setTimer('adver', b.nowMs + p.adverIntMs);
}
