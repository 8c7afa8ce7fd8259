// VRRPv3 timers (RFC 5798 6.1) as keepalived 2.2.7 computes them (VRRP_TIMER_SKEW_CALC, in us), and
// when a backup adopts the master's Max Adver Int (vrrp_state_backup / vrrp_state_master_rx).
import t from 'tap';
import {
  learnMasterAdverIntCs,
  masterDownIntervalV3Ms,
  masterDownIntervalV3Us,
  skewTimeUs,
  skewTimeV3Ms,
  skewTimeV3Us,
  type V3AdvertContext,
} from '../../src/protocol/timing.js';

t.test('Skew_Time = ((256 - priority) * Master_Adver_Interval) / 256, in keepalived us', async (t) => {
  t.equal(skewTimeV3Us(100, 100), 609375, 'at 1 s: the v2 value');
  t.equal(skewTimeV3Us(100, 100), skewTimeUs(100));
  t.equal(skewTimeV3Us(100, 10), 60937, 'at 0.1 s: 60937.5 rounded down');
  t.equal(skewTimeV3Us(150, 1), 4140, '106 * 10000 / 256 = 4140.625');
  t.equal(skewTimeV3Us(255, 4095), 159960, '1 * 40950000 / 256 = 159960.9');
  t.equal(skewTimeV3Us(0, 4095), 40950000);
  t.equal(skewTimeV3Us(100, 0), 0, 'a learned interval of 0 gives no skew');
  t.equal(skewTimeV3Ms(100, 10), 60.937);
});

t.test('Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time', async (t) => {
  t.equal(masterDownIntervalV3Us(10, 100), 360937, 'advert_int 0.1 at priority 100: the issue says about 361 ms');
  t.equal(masterDownIntervalV3Ms(10, 100), 360.937, 'not rounded to whole ms');
  t.equal(masterDownIntervalV3Us(100, 100), 3609375);
  t.equal(masterDownIntervalV3Us(50, 100), 1804687);
  t.equal(masterDownIntervalV3Us(5, 1), 199804, '3 * 50000 + 255 * 50000 / 256 (49804.7)');
  t.equal(masterDownIntervalV3Us(10, 100, 5), 560937, 'down_timer_adverts replaces 3');
  t.equal(masterDownIntervalV3Us(0, 100), 0, 'interval 0: the timer expires at once');
});

t.test('in us, the down interval strictly decreases with priority at every interval, even 1 cs', async (t) => {
  for (const cs of [1, 5, 10, 100, 4095]) {
    let ok = true;
    for (let p = 1; p <= 255; p++) ok &&= masterDownIntervalV3Us(cs, p) < masterDownIntervalV3Us(cs, p - 1);
    t.ok(ok, `${cs} cs`);
  }
});

t.test('bad inputs are bugs', async (t) => {
  t.throws(() => skewTimeV3Us(256, 100));
  t.throws(() => skewTimeV3Us(100, 4096));
  t.throws(() => skewTimeV3Us(100, 1.5));
  t.throws(() => masterDownIntervalV3Us(100, 100, 0));
});

const BACKUP: V3AdvertContext = {
  state: 'BACKUP',
  priority: 200,
  maxAdverIntCs: 50,
  effectivePriority: 100,
  nopreempt: false,
  preemptDelayPending: false,
  senderWinsTie: false,
};

t.test('a BACKUP adopts the interval of an advert it accepts as from the master', async (t) => {
  t.equal(learnMasterAdverIntCs(BACKUP), 50, 'higher priority');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, priority: 100 }), 50, 'equal priority');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, maxAdverIntCs: 0 }), 0, 'even 0: keepalived has no v3 interval check');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, priority: 50 }), undefined, 'lower priority: it will preempt');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, priority: 50, nopreempt: true }), 50, 'lower priority under nopreempt');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, priority: 50, preemptDelayPending: true }), 50, 'preempt delay pending');
  t.equal(learnMasterAdverIntCs({ ...BACKUP, priority: 0 }), undefined, 'priority 0: skew at the interval it has');
});

t.test('a MASTER adopts it only from an advert that makes it step down', async (t) => {
  const m: V3AdvertContext = { ...BACKUP, state: 'MASTER' };
  t.equal(learnMasterAdverIntCs(m), 50);
  t.equal(learnMasterAdverIntCs({ ...m, priority: 100 }), undefined, 'tie, our address higher');
  t.equal(learnMasterAdverIntCs({ ...m, priority: 100, senderWinsTie: true }), 50, 'tie, its address higher');
  t.equal(learnMasterAdverIntCs({ ...m, priority: 50, nopreempt: true }), undefined, 'lower priority');
  t.equal(learnMasterAdverIntCs({ ...m, priority: 0 }), undefined);
});
