/**
 * `use_vmac_addr` and `use_vmac` on a VIP line (docs/vmac.md "use_vmac_addr"): which VIPs/eVIPs get
 * a VMAC of their own (completion, keywords/vmac.ts), the names and parents the runtime gives those
 * VMACs (src/runtime/addr-vmac.ts: what keepalived 2.2.7 was watched to make), the VIPs' interface
 * in the instance spec, and what stays refused by name (runtime-support.ts). Pure: memoryHost
 * (eth0..eth3).
 */
import t from 'tap';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { NOT_SUPPORTED_YET } from '../../src/config/runtime-support.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import { vmacLinks } from '../../src/runtime/addr-vmac.js';
import { memoryHost } from '../support/config-host.js';

const load = (text: string): LoadResult => loadConfig('k.conf', memoryHost({ 'k.conf': text }), { runtimeSupport: true });
const inst = (name: string, vrid: number, body: string, vips: string[], evips: string[] = []): string =>
  `vrrp_instance ${name} {\n  state BACKUP\n  interface eth0\n  virtual_router_id ${vrid}\n  priority 100\n${body}\n` +
  `  virtual_ipaddress {\n${vips.map((v) => `    ${v}\n`).join('')}  }\n` +
  (evips.length > 0 ? `  virtual_ipaddress_excluded {\n${evips.map((v) => `    ${v}\n`).join('')}  }\n` : '') +
  '}\n';
const refusals = (r: LoadResult): string[] => r.diagnostics.filter((d) => d.message.startsWith(NOT_SUPPORTED_YET)).map((d) => d.message);

/** Per instance: its VMACs as `name@parent mac`, and each VIP/eVIP as `address dev`. */
function plan(r: LoadResult): Record<string, { vmacs: string[]; addrs: string[] }> {
  if (r.config === undefined) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const out: Record<string, { vmacs: string[]; addrs: string[] }> = {};
  for (const s of instanceSpecs(r.config))
    out[s.name] = {
      vmacs: vmacLinks(s).map((l) => `${l.ifname}@${l.parent} ${l.mac}`),
      addrs: [...s.vipEntries, ...s.evipEntries].map((e) => `${e.address} ${e.dev ?? '-'}`),
    };
  return out;
}

t.test('use_vmac + use_vmac_addr: the VIPs on other interfaces get vrrpN.<VRID> there (keepalived: vrrp1.51@eth1)', async (t) => {
  const r = load(
    inst(
      'VI_1',
      51,
      '  use_vmac\n  use_vmac_addr',
      ['10.0.0.1/24', '10.0.1.1/24 dev eth1', '10.0.1.2/24 dev eth1'],
      ['10.0.2.1/24 dev eth2'],
    ),
  );
  t.same(refusals(r), []);
  t.same(plan(r), {
    VI_1: {
      vmacs: ['vrrp.51@eth0 00:00:5e:00:01:33', 'vrrp1.51@eth1 00:00:5e:00:01:33', 'vrrp2.51@eth2 00:00:5e:00:01:33'],
      addrs: ['10.0.0.1 -', '10.0.1.1 vrrp1.51', '10.0.1.2 vrrp1.51', '10.0.2.1 vrrp2.51'],
    },
  });
});

t.test('the other cases watched on keepalived 2.2.7 (docs/vmac.md): names, parents, flags, errors', async (t) => {
  const r = load(
    inst('VI_1', 51, '  use_vmac_addr', ['10.0.0.1/24', '10.0.1.1/24 dev eth1']) +
      inst('VI_2', 52, '', ['10.0.0.2/24 use_vmac', '10.0.1.2/24 dev eth1 use_vmac', '10.0.1.3/24 dev eth1']) +
      inst('VI_3', 53, '  use_vmac', ['10.0.0.4/24 use_vmac', '10.0.1.4/24 dev eth1 use_vmac']) +
      inst('VI_4', 54, '  use_vmac\n  use_vmac_addr', ['10.0.1.5/24 dev eth1 use_vmac']),
  );
  t.same(refusals(r), []);
  t.same(plan(r), {
    VI_1: { vmacs: ['vrrp.51@eth1 00:00:5e:00:01:33'], addrs: ['10.0.0.1 -', '10.0.1.1 vrrp.51'] },
    VI_2: {
      vmacs: ['vrrp.52@eth0 00:00:5e:00:01:34', 'vrrp1.52@eth1 00:00:5e:00:01:34'],
      addrs: ['10.0.0.2 vrrp.52', '10.0.1.2 vrrp1.52', '10.0.1.3 eth1'],
    },
    VI_3: { vmacs: ['vrrp.53@eth0 00:00:5e:00:01:35', 'vrrp1.53@eth1 00:00:5e:00:01:35'], addrs: ['10.0.0.4 -', '10.0.1.4 vrrp1.53'] },
    VI_4: { vmacs: ['vrrp.54@eth0 00:00:5e:00:01:36', 'vrrp1.54@eth1 00:00:5e:00:01:36'], addrs: ['10.0.1.5 vrrp1.54'] },
  });
  t.same(
    r.diagnostics.filter((d) => d.line === 0 && d.exitClass !== 'none').map((d) => d.message),
    [
      '(VI_3) use_vmac specified for VIP/eVIP 10.0.0.4/24 and vrrp instance',
      '(VI_4) use_vmac_addr specified and use_vmac specified for VIP/eVIP 10.0.1.5/24',
    ],
    "keepalived's two errors, the flag dropped",
  );
});

t.test('use_vmac_addr changes nothing for VIPs on the instance interface of its family', async (t) => {
  const r = load(inst('VI_1', 51, '  use_vmac_addr', ['10.0.0.1/24', '10.0.0.2/24 dev eth0']));
  t.same(plan(r), { VI_1: { vmacs: [], addrs: ['10.0.0.1 -', '10.0.0.2 eth0'] } });
});

t.test('refused by name: an IPv6 VMAC of its own, and one MAC on one interface for two instances', async (t) => {
  const v6 = load(inst('VI_1', 51, '  use_vmac\n  use_vmac_addr', ['10.0.0.1/24'], ['fd00:51::100/64']));
  t.match(refusals(v6), [/a VMAC of its own for the IPv6 address fd00:51::100 .*vrrpd makes IPv4 VMACs only.*instance VI_1/]);
  t.equal(v6.config, undefined, 'refused');
  const shared = load(
    inst('VI_1', 51, '  use_vmac_addr', ['10.0.1.1/24 dev eth1']) +
      inst('VI_2', 51, '  use_vmac_addr', ['10.0.1.2/24 dev eth1']).replace('interface eth0', 'interface eth2'),
  );
  t.match(refusals(shared), [/a VMAC on eth1 with the MAC of VRID 51 that instance VI_1 has too .*instance VI_2/]);
  t.equal(shared.config, undefined, 'refused');
});

t.test("names skip the instances' own VMAC names", async (t) => {
  const r = load(
    inst('VI_1', 51, '  use_vmac_addr', ['10.0.1.1/24 dev eth1']) +
      inst('VI_2', 51, '  use_vmac', ['10.0.2.1/24']).replace('interface eth0', 'interface eth2'),
  );
  t.same(refusals(r), []);
  t.same(plan(r).VI_1!.vmacs, ['vrrp1.51@eth1 00:00:5e:00:01:33'], "VI_2's vrrp.51 is taken");
});
