/**
 * Interop, VRRPv3 over IPv4 multicast at advert_int 0.1 (`vrrp_version 3` in global_defs): vrrpd
 * and keepalived 2.2.7 in both roles with mixed priorities; election, crash and recovery with
 * preemption, priority-0 stop in both directions, v3 adverts with keepalived's layout (see
 * roles.ts). Root; lab vk-v3mc-, 10.234.31.0/24. About 20-30 s.
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { rolesScenario } from './roles.js';

t.test('VRRPv3 multicast, advert_int 0.1: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await rolesScenario(t, { prefix: 'vk-v3mc-', subnet: '10.234.31', unicast: false, version: 3, versionIn: 'global_defs', advertInt: 0.1 });
});
