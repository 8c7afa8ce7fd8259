/**
 * Interop, multicast without authentication: vrrpd and keepalived 2.2.7 in both roles with mixed
 * priorities; crash and graceful stop in both directions (see roles.ts). Root; lab vk-mc-,
 * 10.234.1.0/24. About 40 s.
 */
import t from 'tap';
import { interopSkip } from './pair.js';
import { rolesScenario } from './roles.js';

t.test('multicast, no auth: vrrpd <-> keepalived in both roles', { skip: interopSkip() }, async (t) => {
  await rolesScenario(t, { prefix: 'vk-mc-', subnet: '10.234.1', unicast: false });
});
