import t from 'tap';
import { expandGarpBurst, garpBurst } from '../../src/protocol/garp-schedule.js';
import { params } from '../support/fsm-fixtures.js';

t.test('a round is every VIP then every eVIP; rounds interleave', async (t) => {
  const a = garpBurst(params({ vips: ['10.0.0.100', '10.0.0.101'], evips: ['10.0.1.1'] }), 'master', 2);
  t.ok(a);
  if (a === null) return;
  t.same(
    expandGarpBurst(a, 50).map((p) => `${p.address}@${p.atMs}`),
    ['10.0.0.100@50', '10.0.0.101@50', '10.0.1.1@50', '10.0.0.100@50', '10.0.0.101@50', '10.0.1.1@50'],
  );
});

t.test('vrrp_garp_interval paces every packet', async (t) => {
  const a = garpBurst(params({ vips: ['10.0.0.100', '10.0.0.101'], garp: { intervalMs: 10 } }), 'master', 2);
  if (a === null) return t.fail('no burst');
  t.same(
    expandGarpBurst(a, 0).map((p) => p.atMs),
    [0, 10, 20, 30],
  );
});

t.test('no burst without rounds or addresses', async (t) => {
  t.equal(garpBurst(params(), 'master', 0), null);
  t.equal(garpBurst(params({ vips: [] }), 'master', 5), null);
});
