/** GarpPacer on a fake clock: an unpaced burst is one synchronous call; pacing spaces packets per interface. */
import t from 'tap';
import { FakeClock } from '../support/fake-clock.js';
import { expandGarpBurst } from '../../src/protocol/garp-schedule.js';
import { GarpPacer } from '../../src/runtime/garp.js';

function pacer() {
  const fake = new FakeClock(1000);
  const calls: { atMs: number; ifname: string; addresses: readonly string[] }[] = [];
  const clock = {
    nowMs: () => fake.now(),
    setTimer: (d: number, cb: () => void) => {
      const id = fake.setTimeout(cb, d);
      return { cancel: () => fake.cancel(id) };
    },
  };
  return {
    fake,
    calls,
    p: new GarpPacer(clock, (ifname, addresses) => calls.push({ atMs: fake.now(), ifname, addresses: [...addresses] })),
  };
}

t.test('vrrp_garp_interval 0: the whole burst in one synchronous call, rounds interleaved', async (t) => {
  const { calls, p } = pacer();
  const burst = expandGarpBurst(
    { type: 'send-garp', burst: 'master', rounds: 5, addresses: ['10.0.0.100', '10.0.0.101'], intervalMs: 0 },
    1000,
  );
  p.schedule('eth0', burst, 0, () => true);
  t.equal(calls.length, 1, 'one call: nothing (no log line, no timer) between two GARPs');
  t.same(
    calls[0]!.addresses,
    Array.from({ length: 10 }, (_, i) => `10.0.0.10${i % 2}`),
  );
});

t.test('vrrp_garp_interval 10: the first now, the rest 10 ms apart; dropped once no longer valid', async (t) => {
  const { fake, calls, p } = pacer();
  let valid = true;
  const burst = expandGarpBurst({ type: 'send-garp', burst: 'master', rounds: 3, addresses: ['10.0.0.100'], intervalMs: 10 }, 1000);
  p.schedule('eth0', burst, 10, () => valid);
  t.same(
    calls.map((c) => [c.atMs, c.addresses.length]),
    [[1000, 1]],
  );
  fake.advance(10);
  t.same(
    calls.map((c) => c.atMs),
    [1000, 1010],
  );
  valid = false;
  fake.advance(10);
  t.equal(calls.length, 2, 'not sent after the owner lost the VIPs');
});
