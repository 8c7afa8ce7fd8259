/**
 * Interop, IPv6 unicast (VRRPv3 from unicast_src_ip to the unicast_peer, both global fd00::
 * addresses, hop limit 64 as keepalived; advert_int 0.5): vrrpd and keepalived 2.2.7 in both roles
 * with mixed priorities; election, crash and recovery with preemption, priority-0 stops (see
 * roles-v6.ts). Root; lab vk-v6uc-, 10.234.34.0/24 (fd00:10:234:34::/64).
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { roles6Scenario } from './roles-v6.js';

t.test('IPv6 unicast, advert_int 0.5: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await roles6Scenario(t, { prefix: 'vk-v6uc-', subnet: '10.234.34', unicast: true, advertInt: 0.5 });
});
