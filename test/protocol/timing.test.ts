import t from 'tap';
import { compareIpv4 } from '../../src/protocol/ipv4-address.js';
import { masterDownIntervalMs, skewTimeMs, skewTimeUs } from '../../src/protocol/timing.js';

t.test('Skew_Time = (256 - priority)/256 s, rounded down to ms (RFC 3768 6.1)', async (t) => {
  t.equal(skewTimeUs(100), 609375, 'keepalived computes 609375 us');
  t.equal(skewTimeMs(100), 609);
  t.equal(skewTimeMs(110), 570);
  t.equal(skewTimeMs(150), 414);
  t.equal(skewTimeMs(255), 3);
  t.equal(skewTimeMs(0), 1000);
});

t.test('rounding keeps the skew strictly decreasing in priority (who expires first is unchanged)', async (t) => {
  for (let p = 1; p <= 255; p++) t.ok(skewTimeMs(p) < skewTimeMs(p - 1), `prio ${p}`);
});

t.test('Master_Down_Interval = down_timer_adverts x interval + skew; v2 skew does not scale', async (t) => {
  t.equal(masterDownIntervalMs(1000, 100), 3609);
  t.equal(masterDownIntervalMs(1000, 110), 3570);
  t.equal(masterDownIntervalMs(2000, 100), 6609);
  t.equal(masterDownIntervalMs(1000, 100, 5), 5609);
});

t.test('bad inputs are bugs', async (t) => {
  t.throws(() => skewTimeMs(256));
  t.throws(() => skewTimeMs(1.5));
  t.throws(() => masterDownIntervalMs(0, 100));
  t.throws(() => masterDownIntervalMs(1000, 100, 0));
});

t.test('IPv4 comparison is numeric, not textual', async (t) => {
  t.ok(compareIpv4('10.0.0.9', '10.0.0.10') < 0);
  t.ok(compareIpv4('192.168.1.1', '10.255.255.255') > 0);
  t.equal(compareIpv4('10.0.0.1', '10.0.0.1'), 0);
  t.throws(() => compareIpv4('10.0.0', '10.0.0.1'));
});
