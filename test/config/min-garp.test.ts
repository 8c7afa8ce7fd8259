/**
 * `vrrp_min_garp` (it was parsed and had no effect): one gratuitous ARP at take-over, no refresh,
 * no delayed burst. The expected values are what keepalived 2.2.7 showed in its SIGUSR1 dump
 * (/tmp/keepalived.data), run in a namespace with each of these global_defs (2026-12-02):
 *   vrrp_min_garp                      -> delay 0, repeat 1, refresh 0, refresh repeat 0, lower prio delay 0, lower prio repeat 1
 *   vrrp_garp_master_repeat 3, vrrp_min_garp, vrrp_garp_master_delay 2
 *                                      -> delay 2, repeat 3, refresh 0, refresh repeat 0, lower prio delay 2, lower prio repeat 3
 * Pure (memoryHost).
 */
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { memoryHost } from '../support/config-host.js';

const INST = 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  virtual_ipaddress {\n    10.0.0.1/24\n  }\n}\n';

function garp(globals: string) {
  const r = loadConfig('k.conf', memoryHost({ 'k.conf': `global_defs {\n${globals}}\n${INST}` }));
  const i = r.config!.instances[0]!;
  return {
    delay: i.garpMasterDelayMs / 1000,
    repeat: i.garpMasterRepeat,
    refresh: i.garpMasterRefreshMs / 1000,
    refreshRepeat: i.garpMasterRefreshRepeat,
    lowerPrioDelay: i.garpLowerPrioDelayMs / 1000,
    lowerPrioRepeat: i.garpLowerPrioRepeat,
  };
}

t.test('vrrp_min_garp as keepalived 2.2.7 applies it', async (t) => {
  t.same(garp(''), { delay: 5, repeat: 5, refresh: 0, refreshRepeat: 1, lowerPrioDelay: 5, lowerPrioRepeat: 5 }, 'defaults');
  const min = { delay: 0, repeat: 1, refresh: 0, refreshRepeat: 0, lowerPrioDelay: 0, lowerPrioRepeat: 1 };
  t.same(garp('  vrrp_min_garp\n'), min, 'alone');
  t.same(garp('  vrrp_min_garp true\n'), min, 'true');
  t.same(garp('  vrrp_min_garp false\n').repeat, 5, 'false: nothing changes');
  t.same(
    garp('  vrrp_garp_master_repeat 3\n  vrrp_min_garp\n  vrrp_garp_master_delay 2\n'),
    { delay: 2, repeat: 3, refresh: 0, refreshRepeat: 0, lowerPrioDelay: 2, lowerPrioRepeat: 3 },
    'a value set before it is kept, one set after it wins',
  );
});
