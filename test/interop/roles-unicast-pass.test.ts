/**
 * Interop, unicast (unicast_src_ip / unicast_peer, the cloud set-up) with PASS authentication:
 * vrrpd and keepalived 2.2.7 in both roles with mixed priorities; crash and graceful stop in both
 * directions (see roles.ts). Root; lab vk-uc-, 10.234.2.0/24. About 40 s.
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { rolesScenario } from './roles.js';

t.test('unicast, PASS auth: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await rolesScenario(t, { prefix: 'vk-uc-', subnet: '10.234.2', unicast: true, authPass: 'secret12' });
});
