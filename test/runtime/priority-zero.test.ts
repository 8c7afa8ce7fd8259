/**
 * Leaving MASTER for FAULT, as the running keepalived 2.2.7 does it (`down_instance()` ->
 * `vrrp_state_leave_master()` sends priority 0, then `vrrp_restore_interface()` sends, counts and
 * logs another): two priority-0 adverts on the wire, one `sent 0 priority` line, Priority Zero Sent
 * 1. A sync group taking a MASTER member to FAULT (`vrrp_sync_fault()`, which does not restore the
 * interface with an advert) sends one, neither counted nor logged. One shipped Instance on a
 * recording env; no daemon, no root.
 */
import t from 'tap';
import { instanceSpecs } from '../../src/runtime/params.js';
import { configFromText } from '../support/config-host.js';
import { fakeEnv, instanceIn, type FakeEnv } from './fake-env.js';

const CONF = `vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.0.0.100
  }
  track_interface {
    eth0
  }
}
`;

/** The priorities of the VRRP adverts sent, in order (a 20-byte IPv4 header, protocol 112; priority is the advert's third byte). */
function priorities(f: FakeEnv): number[] {
  return f.sent.map((s) => (s.packet[9] === 112 ? s.packet[22]! : -1));
}

const sentZeroLines = (f: FakeEnv): string[] => f.log.messages().filter((m) => /sent 0 priority/.test(m));

t.test('MASTER -> FAULT: two priority-0 adverts, one "sent 0 priority" line, counted once', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(instanceSpecs(configFromText(CONF))[0]!, f);
  await inst.handle({ type: 'track', update: { kind: 'interface', name: 'eth0', up: false }, nowMs: f.fake.now() });
  t.equal(inst.snapshot.state, 'FAULT');
  t.same(priorities(f), [0, 0], 'two on the wire, as keepalived');
  t.same(sentZeroLines(f), ['(VI_1) sent 0 priority'], 'logged once, as keepalived');
  t.equal(inst.snapshot.counters.priZeroSent, 1, "Priority Zero Sent counts one, as keepalived's stats dump");
});

t.test('MASTER -> FAULT by its sync group: one priority-0 advert, not logged, not counted', async (t) => {
  const f = fakeEnv();
  const inst = instanceIn(instanceSpecs(configFromText(CONF))[0]!, f);
  await inst.handle({ type: 'sync', group: 'G1', to: 'FAULT', nowMs: f.fake.now() });
  t.equal(inst.snapshot.state, 'FAULT');
  t.same(priorities(f), [0], 'one on the wire, as keepalived');
  t.same(sentZeroLines(f), [], 'no "sent 0 priority" line, as keepalived');
  t.equal(inst.snapshot.counters.priZeroSent, 0, 'not counted, as keepalived');
});
