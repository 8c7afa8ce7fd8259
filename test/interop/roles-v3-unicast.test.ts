/**
 * Interop, VRRPv3 over IPv4 unicast (unicast_src_ip / unicast_peer) at advert_int 0.5 (`version 3`
 * in the instance): vrrpd and keepalived 2.2.7 in both roles with mixed priorities; election, crash
 * and recovery with preemption, priority-0 stop in both directions, v3 adverts with keepalived's
 * layout (see roles.ts). Root; lab vk-v3uc-, 10.234.32.0/24. About 35-40 s.
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { rolesScenario } from './roles.js';

t.test('VRRPv3 unicast, advert_int 0.5: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await rolesScenario(t, { prefix: 'vk-v3uc-', subnet: '10.234.32', unicast: true, version: 3, versionIn: 'instance', advertInt: 0.5 });
});
