/**
 * The state machine as a table: (state, event) -> actions, one test per rule of RFC 3768 6.4 and
 * docs/keepalived-behaviour.md 3.4-3.8. Times: instance VI_1 at 10.0.0.2, priority 100, advert_int 1 s, so
 * Master_Down_Interval = 3609 ms and Skew_Time = 609 ms.
 */
import t from 'tap';
import { addressCheckApplies, acceptsAdverts, initialSnapshot, step } from '../../src/protocol/fsm.js';
import type { FsmEvent, InstanceSnapshot } from '../../src/protocol/fsm-types.js';
import { EVIP, HIGHER_IP, LOWER_IP, ME, inBackup, inFault, inMaster, logs, params, run, rx, summary } from '../support/fsm-fixtures.js';
import type { VrrpState } from '../../src/protocol/types.js';

const ifDown = (nowMs: number, name = 'eth0'): FsmEvent => ({ type: 'track', update: { kind: 'interface', name, up: false }, nowMs });
const ifUp = (nowMs: number, name = 'eth0'): FsmEvent => ({ type: 'track', update: { kind: 'interface', name, up: true }, nowMs });
const eth0 = [{ name: 'eth0', weight: 0, reverse: false }];

t.test('INIT', async (t) => {
  t.test('start goes BACKUP (init) with a full Master_Down_Interval and notifies BACKUP', async (t) => {
    const r = step(initialSnapshot(params({ evips: [EVIP] })), { type: 'start', nowMs: 0 });
    t.equal(r.snapshot.state, 'BACKUP');
    t.same(summary(r.actions), [
      'remove vips', // stale addresses from a previous run (docs/keepalived-behaviour.md 3.5 Startup)
      'remove evips',
      'transition INIT->BACKUP (init)',
      'notify BACKUP 100',
      'set master-down 3609',
    ]);
  });

  t.test('start order of the stale clean-up: rules, routes, VIPs, eVIPs', async (t) => {
    const r = step(initialSnapshot(params({ evips: [EVIP], virtualRoutes: ['r'], virtualRules: ['u'] })), { type: 'start', nowMs: 0 });
    t.same(summary(r.actions).slice(0, 4), ['remove rules', 'remove routes', 'remove vips', 'remove evips']);
  });

  t.test('state MASTER with priority < 255 still starts in BACKUP and waits the down timer', async (t) => {
    const r = step(initialSnapshot(params({ initialState: 'MASTER', basePriority: 200 })), { type: 'start', nowMs: 0 });
    t.equal(r.snapshot.state, 'BACKUP');
    t.equal(r.snapshot.timers['master-down'], 3000 + 218);
  });

  t.test('the address owner with state MASTER goes MASTER at once', async (t) => {
    const r = step(initialSnapshot(params({ basePriority: 255 })), { type: 'start', nowMs: 0 });
    t.equal(r.snapshot.state, 'MASTER');
    t.same(summary(r.actions).slice(1, 3), ['advert 255', 'transition INIT->MASTER']);
  });

  t.test('the address owner configured state BACKUP waits like everyone else', async (t) => {
    const r = step(initialSnapshot(params({ basePriority: 255, initialState: 'BACKUP' })), { type: 'start', nowMs: 0 });
    t.equal(r.snapshot.state, 'BACKUP');
    t.equal(r.snapshot.timers['master-down'], 3000 + 3);
  });

  t.test('start with a tracked interface down goes FAULT (init) and notifies FAULT', async (t) => {
    const s0 = initialSnapshot(params({ trackInterfaces: eth0 }));
    const r = run(s0, ifDown(0), { type: 'start', nowMs: 0 });
    t.equal(r.snapshot.state, 'FAULT');
    t.same(summary(r.actions), ['remove vips', 'transition INIT->FAULT (init)', 'notify FAULT 100']);
  });

  t.test('the instance stays in INIT until an unweighted script reports its first result', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: 0, reverse: false, rise: 2, fall: 2, initFail: false }] });
    const r1 = step(initialSnapshot(p), { type: 'start', nowMs: 0 });
    t.equal(r1.snapshot.state, 'INIT');
    t.notOk(
      r1.actions.some((a) => a.type === 'notify'),
      'no notify while held in INIT',
    );
    const r2 = step(r1.snapshot, { type: 'track', update: { kind: 'script', name: 'chk', ok: true }, nowMs: 400 });
    t.equal(r2.snapshot.state, 'BACKUP');
    t.same(summary(r2.actions), ['transition INIT->BACKUP', 'notify BACKUP 100', 'set master-down 4009'], 'no (init) suffix');
  });

  t.test('a failing first result of an unweighted script sends the instance from INIT to FAULT', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: 0, reverse: false, rise: 1, fall: 1, initFail: false }] });
    const r = run(
      initialSnapshot(p),
      { type: 'start', nowMs: 0 },
      { type: 'track', update: { kind: 'script', name: 'chk', ok: false }, nowMs: 10 },
    );
    t.equal(r.snapshot.state, 'FAULT');
  });

  t.test('a weighted script without a result does not hold INIT', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: 10, reverse: false, rise: 1, fall: 1, initFail: false }] });
    t.equal(step(initialSnapshot(p), { type: 'start', nowMs: 0 }).snapshot.state, 'BACKUP');
  });

  t.test('INIT ignores adverts and timers', async (t) => {
    const s = initialSnapshot(params());
    t.same(step(s, rx(200, HIGHER_IP, 0)).actions, []);
    t.same(step(s, { type: 'timer', timer: 'master-down', nowMs: 0 }).actions, []);
  });

  t.test('stop in INIT notifies STOP and sends nothing', async (t) => {
    const r = step(initialSnapshot(params()), { type: 'stop', nowMs: 0 });
    t.same(summary(r.actions), ['transition INIT->STOP', 'notify STOP 100']);
  });
});

t.test('BACKUP', async (t) => {
  t.test('BACKUP accepts a higher-priority advert and resets the down timer to Master_Down_Interval', async (t) => {
    const r = step(inBackup(), rx(150, HIGHER_IP, 1000));
    t.same(summary(r.actions), ['set master-down 4609']);
    t.same(r.snapshot.master, { ip: HIGHER_IP, priority: 150 });
  });

  t.test('BACKUP accepts an equal-priority advert and does not tie-break', async (t) => {
    for (const src of [LOWER_IP, HIGHER_IP]) {
      const r = step(inBackup(), rx(100, src, 1000));
      t.equal(r.snapshot.state, 'BACKUP', `from ${src}`);
      t.same(summary(r.actions), ['set master-down 4609']);
    }
  });

  t.test('BACKUP (preempting) discards a lower-priority advert without resetting the timer', async (t) => {
    const r = step(inBackup(), rx(50, HIGHER_IP, 1000));
    t.same(summary(r.actions), []);
    t.equal(r.snapshot.timers['master-down'], 3609);
    t.same(logs(r.actions), [`received lower priority (50) advert from ${HIGHER_IP} - discarding`]);
    t.equal(r.snapshot.counters.lowerPrioDiscarded, 1);
  });

  t.test('BACKUP with nopreempt accepts a lower-priority advert (the incumbent is kept)', async (t) => {
    const r = step(inBackup(params({ nopreempt: true })), rx(50, LOWER_IP, 1000));
    t.same(summary(r.actions), ['set master-down 4609']);
  });

  t.test('BACKUP receiving priority 0 sets the down timer to Skew_Time only', async (t) => {
    const r = step(inBackup(), rx(0, HIGHER_IP, 1000));
    t.same(summary(r.actions), ['set master-down 1609']);
    t.equal(r.snapshot.counters.priZeroRcvd, 1);
    t.same(logs(r.actions), ['Backup received priority 0 advertisement']);
  });

  t.test('BACKUP with nopreempt also takes the skew-only timer on priority 0', async (t) => {
    const r = step(inBackup(params({ nopreempt: true })), rx(0, HIGHER_IP, 1000));
    t.same(summary(r.actions), ['set master-down 1609']);
  });

  t.test('BACKUP goes MASTER when the down timer fires: advert, VIPs, eVIPs, routes, rules, GARPs, notify, delayed burst', async (t) => {
    const b = inBackup(params({ evips: [EVIP], virtualRoutes: ['r'], virtualRules: ['u'] }));
    const r = step(b, { type: 'timer', timer: 'master-down', nowMs: 3609 });
    t.equal(r.snapshot.state, 'MASTER');
    t.same(summary(r.actions), [
      'advert 100',
      'transition BACKUP->MASTER',
      'add vips',
      'add evips',
      'add routes',
      'add rules',
      'garp master x5',
      'notify MASTER 100',
      'set garp-delay 8609',
      'set adver 4609',
    ]);
    t.equal(r.snapshot.counters.becomeMaster, 1);
  });

  t.test('an early or stale down-timer event is ignored', async (t) => {
    t.same(step(inBackup(), { type: 'timer', timer: 'master-down', nowMs: 3608 }).actions, []);
    t.same(step(inBackup(), { type: 'timer', timer: 'adver', nowMs: 5000 }).actions, []);
  });

  t.test('preempt_delay: the first lower advert starts the delay and is accepted', async (t) => {
    const r = step(inBackup(params({ preemptDelayMs: 3000 })), rx(50, LOWER_IP, 1000));
    t.same(summary(r.actions), ['set master-down 4609']);
    t.equal(r.snapshot.preemptUntilMs, 4000);
    t.same(logs(r.actions), ['start preempt delay (3.000000)']);
  });

  t.test('preempt_delay: lower adverts are accepted until the delay ends, then discarded', async (t) => {
    const s = inBackup(params({ preemptDelayMs: 3000 }));
    const r1 = run(s, rx(50, LOWER_IP, 1000), rx(50, LOWER_IP, 3999));
    t.equal(r1.snapshot.timers['master-down'], 3999 + 3609, 'accepted inside the delay');
    const r2 = step(r1.snapshot, rx(50, LOWER_IP, 4000));
    t.same(summary(r2.actions), [], 'discarded once the delay has run out');
    t.equal(r2.snapshot.timers['master-down'], 3999 + 3609);
  });

  t.test('preempt_delay: an advert with priority >= ours stops the delay', async (t) => {
    const r = run(inBackup(params({ preemptDelayMs: 3000 })), rx(50, LOWER_IP, 1000), rx(120, HIGHER_IP, 2000));
    t.equal(r.snapshot.preemptUntilMs, null);
    t.same(logs(r.actions), ['stop preempt delay']);
  });

  t.test('preempt_delay is re-armed after every transition to BACKUP', async (t) => {
    const p = params({ preemptDelayMs: 3000 });
    const m = step(inMaster(p), rx(150, HIGHER_IP, 5000)).snapshot;
    t.equal(m.state, 'BACKUP');
    t.equal(m.preemptUntilMs, null);
  });

  t.test('a tracked interface going down sends BACKUP to FAULT without adverts', async (t) => {
    const r = step(inBackup(params({ trackInterfaces: eth0 })), ifDown(500));
    t.same(summary(r.actions), ['transition BACKUP->FAULT', 'cancel master-down', 'notify FAULT 100']);
    t.equal(r.snapshot.reason, 'interface eth0 down');
  });

  t.test('a priority change in BACKUP shifts the running down timer by the change in skew', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: 10, reverse: false, rise: 1, fall: 1, initFail: false }] });
    const r = step(inBackup(p), { type: 'track', update: { kind: 'script', name: 'chk', ok: true }, nowMs: 1000 });
    // 3609 - (609 - 570)
    t.same(summary(r.actions), ['priority 100->110', 'set master-down 3570']);
  });

  t.test('the shifted timer of a skew-only wait moves too', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: -50, reverse: false, rise: 1, fall: 1, initFail: false }] });
    const s = step(inBackup(p), rx(0, HIGHER_IP, 1000)).snapshot; // due 1609
    const r = step(s, { type: 'track', update: { kind: 'script', name: 'chk', ok: false }, nowMs: 1100 });
    t.same(summary(r.actions), ['priority 100->50', `set master-down ${1609 + (804 - 609)}`]);
  });

  t.test('an external VIP deletion in BACKUP changes nothing', async (t) => {
    t.same(step(inBackup(), { type: 'vip-deleted-externally', address: '10.0.0.100', nowMs: 10 }).actions, []);
  });

  t.test('stop in BACKUP sends nothing and notifies STOP', async (t) => {
    const r = step(inBackup(), { type: 'stop', nowMs: 2000 });
    t.same(summary(r.actions), ['transition BACKUP->STOP', 'cancel master-down', 'notify STOP 100']);
  });
});

t.test('MASTER', async (t) => {
  t.test('the advert timer sends an advert with the effective priority and re-arms', async (t) => {
    const r = step(inMaster(), { type: 'timer', timer: 'adver', nowMs: 4609 });
    t.same(summary(r.actions), ['advert 100', 'set adver 5609']);
  });

  t.test('MASTER receiving priority 0 sends an advert at once and stays MASTER', async (t) => {
    const r = step(inMaster(), rx(0, HIGHER_IP, 4000));
    t.same(summary(r.actions), ['advert 100', 'set adver 5000']);
    t.equal(r.snapshot.state, 'MASTER');
  });

  t.test('MASTER receiving a higher priority goes BACKUP without a priority-0 advert', async (t) => {
    const r = step(inMaster(params({ evips: [EVIP] })), rx(150, LOWER_IP, 4000));
    t.equal(r.snapshot.state, 'BACKUP');
    t.same(summary(r.actions), [
      'transition MASTER->BACKUP',
      'cancel adver',
      'cancel garp-delay',
      'remove vips',
      'remove evips',
      'notify BACKUP 100',
      'set master-down 7609',
    ]);
    t.same(logs(r.actions), [`Master received advert from ${LOWER_IP} with higher priority 150, ours 100`]);
    t.equal(r.snapshot.reason, `higher priority advert from ${LOWER_IP} (150 > 100)`);
  });

  t.test('MASTER receiving an equal priority from a higher IP goes BACKUP (the tie-break between masters)', async (t) => {
    const r = step(inMaster(), rx(100, HIGHER_IP, 4000));
    t.equal(r.snapshot.state, 'BACKUP');
    t.same(logs(r.actions), [`Master received advert from ${HIGHER_IP} with same priority 100 but higher IP address than ours`]);
  });

  t.test(
    'MASTER receiving a lower priority re-advertises, sends lower-prio GARPs now and later, notifies MASTER_RX_LOWER_PRI',
    async (t) => {
      const r = step(inMaster(), rx(50, HIGHER_IP, 4000));
      t.equal(r.snapshot.state, 'MASTER');
      t.same(summary(r.actions), [
        'advert 100',
        'garp lower-prio x5',
        'set garp-lower-prio 9000',
        'notify MASTER_RX_LOWER_PRI 100',
        'set adver 5000',
      ]);
      t.same(logs(r.actions), [`Received advert from ${HIGHER_IP} with lower priority 50, ours 100, forcing new election`]);
    },
  );

  t.test('MASTER receiving an equal priority from a lower IP treats it as lower', async (t) => {
    const r = step(inMaster(), rx(100, LOWER_IP, 4000));
    t.equal(r.snapshot.state, 'MASTER');
    t.same(summary(r.actions)[0], 'advert 100');
    t.ok(r.actions.some((a) => a.type === 'notify' && a.kind === 'MASTER_RX_LOWER_PRI'));
  });

  t.test('lower_prio_no_advert: no advert and no "forcing new election", GARPs and notify still', async (t) => {
    const r = step(inMaster(params({ lowerPrioNoAdvert: true })), rx(50, LOWER_IP, 4000));
    t.same(summary(r.actions), ['garp lower-prio x5', 'set garp-lower-prio 9000', 'notify MASTER_RX_LOWER_PRI 100']);
    t.same(logs(r.actions), [`Received advert from ${LOWER_IP} with lower priority 50, ours 100`]);
  });

  t.test('higher_prio_send_advert: one advert before yielding', async (t) => {
    const r = step(inMaster(params({ higherPrioSendAdvert: true })), rx(150, LOWER_IP, 4000));
    t.same(summary(r.actions).slice(0, 2), ['advert 100', 'transition MASTER->BACKUP']);
  });

  t.test('equal priority from our own address: warning, stay MASTER', async (t) => {
    const r = step(inMaster(), rx(100, ME, 4000));
    t.equal(r.snapshot.state, 'MASTER');
    t.same(logs(r.actions), ['WARNING - equal priority advert received from remote host with our IP address.']);
  });

  // docs/keepalived-behaviour.md 3.4: "after *any* received packet while MASTER the next advert is rescheduled to
  // now+adver_int (unless lower_prio_no_advert)". vrrpd does it for every advert that passed the
  // receive checks and leaves MASTER in no other way; packets the codec drops never reach the state
  // machine, so (unlike keepalived) a stream of invalid packets cannot hold a MASTER's adverts back.
  t.test('every accepted advert that keeps us MASTER re-arms the advert timer to now + adver_int', async (t) => {
    for (const [what, ev] of [
      ['priority 0', rx(0, LOWER_IP, 4000)],
      ['lower priority', rx(50, LOWER_IP, 4000)],
      ['equal priority, lower IP', rx(100, LOWER_IP, 4000)],
      ['equal priority, our IP', rx(100, ME, 4000)],
    ] as const) {
      const r = step(inMaster(), ev);
      t.equal(r.snapshot.state, 'MASTER', what);
      t.equal(r.snapshot.timers.adver, 5000, `${what}: next advert at now + 1 s`);
    }
    const quiet = step(inMaster(params({ lowerPrioNoAdvert: true })), rx(100, ME, 4000));
    t.equal(quiet.snapshot.timers.adver, 4609, 'lower_prio_no_advert: cadence kept');
  });

  t.test('two address owners: the local one drops to 254 and yields', async (t) => {
    const m = step(initialSnapshot(params({ basePriority: 255 })), { type: 'start', nowMs: 0 }).snapshot;
    const r = step(m, rx(255, LOWER_IP, 500));
    t.equal(r.snapshot.effectivePriority, 254);
    t.equal(r.snapshot.state, 'BACKUP');
    t.match(logs(r.actions)[0], /CONFIGURATION ERROR/);
  });

  t.test('the delayed GARP burst fires garp_master_delay after becoming MASTER', async (t) => {
    const r = step(inMaster(), { type: 'timer', timer: 'garp-delay', nowMs: 8609 });
    t.same(summary(r.actions), ['garp master-delayed x5']);
  });

  t.test('the delayed lower-priority burst fires garp_lower_prio_delay later', async (t) => {
    const s = step(inMaster(), rx(50, LOWER_IP, 4000)).snapshot;
    t.same(summary(step(s, { type: 'timer', timer: 'garp-lower-prio', nowMs: 9000 }).actions), ['garp lower-prio-delayed x5']);
  });

  t.test('garp_master_refresh goes out with the first advert at or after the refresh time', async (t) => {
    let s = inMaster(params({ garp: { masterRefreshMs: 2500, masterRefreshRepeat: 2 } }));
    const fired: number[] = [];
    for (let at = 4609; at <= 12609; at += 1000) {
      const r = step(s, { type: 'timer', timer: 'adver', nowMs: at });
      s = r.snapshot;
      if (summary(r.actions).includes('garp master-refresh x2')) fired.push(at);
    }
    // becoming MASTER at 3609: due 6109 -> sent 6609; due 9109 -> 9609; due 12109 -> 12609
    t.same(fired, [6609, 9609, 12609]);
  });

  t.test('no GARPs and no delayed burst without addresses', async (t) => {
    const r = step(inBackup(params({ vips: [] })), { type: 'timer', timer: 'master-down', nowMs: 3609 });
    t.notOk(summary(r.actions).some((x) => x.startsWith('garp') || x.startsWith('set garp')));
  });

  t.test('FAULT from MASTER sends priority 0 (twice, as 2.2.7, counted and logged once), removes addresses, notifies FAULT', async (t) => {
    const r = step(inMaster(params({ trackInterfaces: eth0 })), ifDown(5000));
    t.equal(r.snapshot.state, 'FAULT');
    t.same(summary(r.actions), [
      'transition MASTER->FAULT',
      'cancel adver',
      'cancel garp-delay',
      'advert 0',
      'advert 0',
      'remove vips',
      'notify FAULT 100',
    ]);
    t.equal(r.snapshot.counters.priZeroSent, 1);
    t.equal(logs(r.actions).filter((m) => m === 'sent 0 priority').length, 1);
  });

  t.test('STOP from MASTER sends priority 0, removes addresses, then notifies STOP', async (t) => {
    const r = step(inMaster(params({ evips: [EVIP], virtualRoutes: ['r'] })), { type: 'stop', nowMs: 5000 });
    t.same(summary(r.actions), [
      'transition MASTER->STOP',
      'cancel adver',
      'cancel garp-delay',
      'advert 0',
      'remove routes',
      'remove vips',
      'remove evips',
      'notify STOP 100',
    ]);
  });

  t.test('a VIP deleted externally: BACKUP, priority 0, remove the rest, skew-only down timer', async (t) => {
    const r = step(inMaster(), { type: 'vip-deleted-externally', address: '10.0.0.100', nowMs: 5000 });
    t.equal(r.snapshot.state, 'BACKUP');
    t.same(summary(r.actions), [
      'transition MASTER->BACKUP',
      'cancel adver',
      'cancel garp-delay',
      'advert 0',
      'remove vips',
      'notify BACKUP 100',
      'set master-down 5609',
    ]);
  });

  t.test('a no_track VIP deleted externally changes nothing', async (t) => {
    const r = step(inMaster(params({ noTrackAddresses: ['10.0.0.100'] })), {
      type: 'vip-deleted-externally',
      address: '10.0.0.100',
      nowMs: 5000,
    });
    t.same(r.actions, []);
  });

  t.test('a deleted address that is not ours changes nothing', async (t) => {
    t.same(step(inMaster(), { type: 'vip-deleted-externally', address: '10.9.9.9', nowMs: 5000 }).actions, []);
  });

  t.test('a priority change in MASTER only changes the next advert', async (t) => {
    const p = params({ trackScripts: [{ name: 'chk', weight: 10, reverse: false, rise: 1, fall: 1, initFail: false }] });
    const r = step(inMaster(p), { type: 'track', update: { kind: 'script', name: 'chk', ok: true }, nowMs: 4000 });
    t.same(summary(r.actions), ['priority 100->110']);
    t.same(summary(step(r.snapshot, { type: 'timer', timer: 'adver', nowMs: 4609 }).actions), ['advert 110', 'set adver 5609']);
  });
});

t.test('FAULT', async (t) => {
  t.test('FAULT ignores adverts and stale timers', async (t) => {
    const s = inFault();
    t.same(step(s, rx(200, HIGHER_IP, 1000)).actions, []);
    t.same(step(s, { type: 'timer', timer: 'master-down', nowMs: 3609 }).actions, []);
  });

  t.test('leaving FAULT when the last fault clears: BACKUP with a full down timer', async (t) => {
    const r = step(inFault(), ifUp(2000));
    t.same(summary(r.actions), ['transition FAULT->BACKUP', 'notify BACKUP 100', 'set master-down 5609']);
  });

  t.test('FAULT is kept while another tracked item is still failing', async (t) => {
    const p = params({ trackInterfaces: [...eth0, { name: 'eth1', weight: 0, reverse: false }] });
    const s = run(inBackup(p), ifDown(10, 'eth0'), ifDown(20, 'eth1')).snapshot;
    t.equal(step(s, ifUp(30, 'eth0')).snapshot.state, 'FAULT');
    t.equal(run(s, ifUp(30, 'eth0'), ifUp(40, 'eth1')).snapshot.state, 'BACKUP');
  });

  t.test('the address owner with state MASTER leaves FAULT straight to MASTER', async (t) => {
    const p = params({ basePriority: 255, trackInterfaces: eth0 });
    const s = run(initialSnapshot(p), { type: 'start', nowMs: 0 }, ifDown(100)).snapshot;
    t.equal(s.state, 'FAULT');
    t.equal(step(s, ifUp(200)).snapshot.state, 'MASTER');
  });

  t.test('stop in FAULT notifies STOP and sends nothing', async (t) => {
    t.same(summary(step(inFault(), { type: 'stop', nowMs: 500 }).actions), ['transition FAULT->STOP', 'notify STOP 100']);
  });
});

t.test('STOP', async (t) => {
  t.test('STOP is final: every event is ignored', async (t) => {
    const s = step(inMaster(), { type: 'stop', nowMs: 5000 }).snapshot;
    const events: FsmEvent[] = [
      rx(200, HIGHER_IP, 6000),
      { type: 'timer', timer: 'adver', nowMs: 6000 },
      { type: 'stop', nowMs: 6000 },
      { type: 'vip-deleted-externally', address: '10.0.0.100', nowMs: 6000 },
      ifDown(6000),
    ];
    for (const e of events) t.same(step(s, e).snapshot.state, 'STOP', e.type);
    t.same(step(s, { type: 'stop', nowMs: 6000 }).actions, []);
  });
});

t.test('priority-override', async (t) => {
  t.test('an override changes the advertised priority and shifts a BACKUP timer', async (t) => {
    const r = step(inBackup(), { type: 'priority-override', priority: 254, nowMs: 100 });
    t.same(summary(r.actions), ['priority 100->254', 'set master-down 3007']);
    const back = step(r.snapshot, { type: 'priority-override', priority: null, nowMs: 200 });
    t.equal(back.snapshot.effectivePriority, 100);
  });
  t.test('an out-of-range override is a bug', async (t) => {
    t.throws(() => step(inBackup(), { type: 'priority-override', priority: 0, nowMs: 100 }));
  });
});

t.test('helpers for the runtime', async (t) => {
  t.test('address checks always apply in MASTER', async (t) => {
    t.ok(addressCheckApplies(inMaster(params({ skipCheckAdvAddr: true })), HIGHER_IP));
  });
  t.test('BACKUP skips address checks only with skip_check_adv_addr and the same master', async (t) => {
    const s = step(inBackup(params({ skipCheckAdvAddr: true })), rx(150, HIGHER_IP, 100)).snapshot;
    t.notOk(addressCheckApplies(s, HIGHER_IP));
    t.ok(addressCheckApplies(s, LOWER_IP));
    const plain = step(inBackup(), rx(150, HIGHER_IP, 100)).snapshot;
    t.ok(addressCheckApplies(plain, HIGHER_IP));
  });
  t.test('adverts are processed only in BACKUP and MASTER', async (t) => {
    const states: VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP'];
    t.same(states.filter(acceptsAdverts), ['BACKUP', 'MASTER']);
  });
});

t.test('every step emits at most one transition', async (t) => {
  const snaps: InstanceSnapshot[] = [initialSnapshot(params({ trackInterfaces: eth0 })), inBackup(), inMaster(), inFault()];
  const events: FsmEvent[] = [
    { type: 'start', nowMs: 9000 },
    { type: 'timer', timer: 'master-down', nowMs: 9000 },
    { type: 'timer', timer: 'adver', nowMs: 9000 },
    rx(0, HIGHER_IP, 9000),
    rx(50, HIGHER_IP, 9000),
    rx(100, HIGHER_IP, 9000),
    rx(200, HIGHER_IP, 9000),
    ifDown(9000),
    ifUp(9000),
    { type: 'vip-deleted-externally', address: '10.0.0.100', nowMs: 9000 },
    { type: 'stop', nowMs: 9000 },
  ];
  for (const s of snaps) {
    for (const e of events) {
      const n = step(s, e).actions.filter((a) => a.type === 'transition').length;
      t.ok(n <= 1, `${s.state} x ${e.type}`);
    }
  }
});
