/**
 * Reload (docs/keepalived-behaviour.md 6 step 5): the address diff of a kept MASTER as actions (reload-diff.ts,
 * pure), and the daemon applying a reload through its instances' interpreter on fake ports.
 */
import t from 'tap';
import { MemoryLog } from '../../src/log.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import type { AddrSpec, IoResult } from '../../src/runtime/ports/index.js';
import { reloadAddressActions } from '../../src/runtime/reload-diff.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';

const conf = (body: string, head = '', iface = '  interface eth0\n'): string => `${head}vrrp_instance VI_1 {
${iface}  virtual_router_id 51
  priority 100
  advert_int 1
${body}}
`;
const spec = (text: string) => instanceSpecs(configFromText(text))[0]!;
const vips = (...a: string[]): string => `  virtual_ipaddress {\n${a.map((x) => `    ${x}\n`).join('')}  }\n`;

/** Actions in a compact form: `-vips 10.0.0.1@eth0`, `+routes ...`, `garp 2x[...]/10`. */
function describe(actions: ReturnType<typeof reloadAddressActions>): string[] {
  return actions.map((a) => {
    if (a.type === 'send-garp') return `garp ${a.rounds}x[${a.addresses.join(',')}]/${a.intervalMs}`;
    const e = a.item.entry;
    const key = 'address' in e ? e.address : e.words.join(' ');
    return `${a.type === 'reload-add' ? '+' : '-'}${a.item.kind} ${key}@${a.defaultIf ?? '-'}`;
  });
}

t.test('reloadAddressActions: an unchanged list needs nothing', async (t) => {
  const s = spec(conf(vips('10.0.0.100/24', '10.0.0.101')));
  t.same(reloadAddressActions(s, spec(conf(vips('10.0.0.100/24', '10.0.0.101'))), 'eth0'), []);
});

t.test(
  'reloadAddressActions: removed first (rules, routes, VIPs, eVIPs), then added (VIPs, eVIPs, routes, rules), then one burst for every address',
  async (t) => {
    const old = spec(
      conf(
        `${vips('10.0.0.100', '10.0.0.101')}  virtual_ipaddress_excluded {\n    10.0.0.150\n  }\n  virtual_routes {\n    10.1.0.0/16 via 10.0.0.254\n  }\n  virtual_rules {\n    from 10.0.0.100 table 100\n  }\n`,
      ),
    );
    const next = spec(
      conf(
        `${vips('10.0.0.100', '10.0.0.102')}  virtual_ipaddress_excluded {\n    10.0.0.151\n  }\n  virtual_routes {\n    10.2.0.0/16 via 10.0.0.254\n  }\n  virtual_rules {\n    from 10.0.0.102 table 100\n  }\n`,
      ),
    );
    t.same(describe(reloadAddressActions(old, next, 'eth0')), [
      '-rules from 10.0.0.100 table 100@eth0',
      '-routes 10.1.0.0/16 via 10.0.0.254@eth0',
      '-vips 10.0.0.101@eth0',
      '-evips 10.0.0.150@eth0',
      '+vips 10.0.0.102@eth0',
      '+evips 10.0.0.151@eth0',
      '+routes 10.2.0.0/16 via 10.0.0.254@eth0',
      '+rules from 10.0.0.102 table 100@eth0',
      'garp 5x[10.0.0.100,10.0.0.102,10.0.0.151]/0',
    ]);
  },
);

t.test('reloadAddressActions: a changed label or prefix is a remove plus an add; the burst follows the new GARP settings', async (t) => {
  const old = spec(conf(vips('10.0.0.100/24 label eth0:a')));
  const next = spec(conf(`${vips('10.0.0.100/24 label eth0:b')}  garp_master_repeat 2\n`, 'global_defs {\n  vrrp_garp_interval 0.01\n}\n'));
  t.same(describe(reloadAddressActions(old, next, 'eth0')), ['-vips 10.0.0.100@eth0', '+vips 10.0.0.100@eth0', 'garp 2x[10.0.0.100]/10']);
});

t.test('reloadAddressActions: only removals announce nothing; a unicast instance found by its source uses its interface now', async (t) => {
  const uni = (v: string): string => conf(`  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n${v}`, '', '');
  t.same(describe(reloadAddressActions(spec(uni(vips('10.0.0.100', '10.0.0.101'))), spec(uni(vips('10.0.0.100'))), 'eth3')), [
    '-vips 10.0.0.101@eth3',
  ]);
});

class FailingAdds extends FakeIo {
  failAddOf = new Set<string>();
  constructor() {
    super();
    const add = this.netlink.addAddress;
    this.netlink.addAddress = async (s: AddrSpec): Promise<IoResult<{ exists: boolean }>> =>
      this.failAddOf.has(s.address)
        ? { ok: false, error: { kind: 'IoError', syscall: 'RTM_NEWADDR', errno: 1, code: 'EPERM', message: 'Operation not permitted' } }
        : add(s);
  }
}

t.test('daemon reload: a VIP the kernel refuses to add on a kept MASTER is counted and logged (was silently ignored)', async (t) => {
  const io = new FailingAdds();
  const log = new MemoryLog();
  const d = new Daemon(withTestNotifier({ io, log }));
  t.teardown(() => d.stop(0));
  const r = await d.start(configFromText(conf(vips('10.0.0.100'))));
  if (!r.ok) throw new Error(r.error.message);
  await advanceDaemon(d, io, 3609);
  t.equal(d.status().instances[0]!.state, 'MASTER');
  io.failAddOf.add('10.0.0.103');
  await d.reload(configFromText(conf(vips('10.0.0.100', '10.0.0.103'))));
  await advanceDaemon(d, io, 1);
  const st = d.status().instances[0]!;
  t.equal(st.state, 'MASTER', 'kept');
  t.equal(st.counters.addressErrors, 1, 'the refused add is counted');
  t.ok(
    log.messages('warn').some((m) => /^\(VI_1\) cannot add 10\.0\.0\.103: RTM_NEWADDR: EPERM/.test(m)),
    'and logged',
  );
  t.ok(
    io.garps.some((g) => g.ip === '10.0.0.103'),
    'the burst for the new VIP still goes out (as before)',
  );
});
