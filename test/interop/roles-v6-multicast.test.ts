/**
 * Interop, IPv6 multicast (VRRPv3 to ff02::12 from the link-local address, advert_int 0.1): vrrpd
 * and keepalived 2.2.7 in both roles with mixed priorities; election, crash and recovery with
 * preemption, priority-0 stops; VIP by `ip -6 addr`, adverts and unsolicited NAs on the wire, a
 * client's `ping -6` (see roles-v6.ts). Root; lab vk-v6mc-, 10.234.33.0/24 (fd00:10:234:33::/64).
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { roles6Scenario } from './roles-v6.js';

t.test('IPv6 multicast, advert_int 0.1: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await roles6Scenario(t, { prefix: 'vk-v6mc-', subnet: '10.234.33', unicast: false, advertInt: 0.1 });
});
