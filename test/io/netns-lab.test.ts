/**
 * The lab helper itself: namespaces, bridge, exec, spawn, capture, setns, cleanup; and the `ipv6`
 * option (link-local and global addresses, usable at once). Root only; prefixes vio-lab-
 * (10.232.10.0/24) and vio-lab6- (10.232.11.0/24).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Lab, inNetns, netnsSkip, run } from '../support/netns.js';
import { ip6Of } from '../support/ns-lab.js';
import { parsePcap } from '../support/pcap.js';

t.test('pcap reader parses an empty/short file without throwing', async (t) => {
  t.same(parsePcap(Buffer.alloc(0)).records, []);
  t.throws(() => parsePcap(Buffer.alloc(24, 1)), /not a pcap/);
});

t.test('lab: two hosts on a bridge, exec, capture, setns, cleanup', { skip: netnsSkip() }, async (t) => {
  let tmp = '';
  const names: string[] = [];
  await t.test('build and use', async (t) => {
    const lab = await Lab.create(t, { prefix: 'vio-lab-', subnet: '10.232.10', hosts: ['a', 'b'] });
    tmp = lab.tmpDir;
    names.push(lab.switchNs, ...lab.hosts.map((h) => h.ns));
    const a = lab.host('a');
    const b = lab.host('b');
    t.same(await lab.addresses6('a'), [], 'without the ipv6 option: no IPv6 address on eth0');
    t.equal(a.linkLocal, undefined);
    t.equal(a.ip6, undefined);
    t.equal(a.ip, '10.232.10.1');
    t.equal(b.ip, '10.232.10.2');
    t.match(a.mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);

    const cap = await lab.capture('b', { filter: 'icmp' });
    const ping = await lab.exec('a', ['ping', '-c', '2', '-i', '0.2', '-W', '1', b.ip], { timeoutMs: 5000 });
    t.match(ping.stdout, /2 received/);
    const res = await cap.stop();
    const echo = res.frames.filter((f) => f.ip?.protocol === 1 && f.ip.src === a.ip && f.ip.dst === b.ip);
    t.equal(echo.length, 2, 'two echo requests captured in b');
    t.match(await res.text(), /ICMP echo request/);

    // setns: a socket-free check that the thread really moves (if_nametoindex of eth0 differs per ns).
    const inA = lab.inNetns('a', () => execFileSync('ip', ['-j', 'link', 'show', 'eth0']).toString());
    t.match(inA, a.mac, "ip run from inside inNetns sees a's eth0");

    const p = lab.spawn('a', ['sleep', '30']);
    t.ok(p.running);
    await lab.linkDown('a', 'switch');
    await lab.waitLink('a', false, 3000);
    await lab.linkUp('a', 'switch');
    await lab.waitLink('a', true, 3000);
    t.ok(lab.hosts.length === 2);
  });
  const list = (await run(['ip', 'netns', 'list'])).stdout;
  for (const n of names) t.notMatch(list, new RegExp(`^${n}\\b`, 'm'), `${n} removed`);
  t.notOk(existsSync(tmp), 'temp dir removed');
  t.throws(() => inNetns('vio-lab-nonexistent', () => 1));
});

/** The EUI-64 interface identifier of a MAC (RFC 4291 appendix A), as the kernel's link-local uses it. */
function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0]! ^= 2;
  const g = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${g.map((x) => x.toString(16)).join(':')}`;
}

t.test('lab with ipv6: link-local and global addresses, usable at once', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vio-lab6-', subnet: '10.232.11', hosts: ['a', 'b'], ipv6: true });
  const a = lab.host('a');
  const b = lab.host('b');
  t.equal(ip6Of('10.232.11'), 'fd00:10:232:11::');
  t.equal(a.ip6, 'fd00:10:232:11::1');
  t.equal(b.ip6, 'fd00:10:232:11::2');
  t.equal(a.linkLocal, eui64LinkLocal(a.mac), "a's link-local is the kernel's EUI-64 one");
  t.equal(b.linkLocal, eui64LinkLocal(b.mac));
  for (const h of [a, b]) {
    const addrs = await lab.addresses6(h.name);
    t.same(
      addrs.map((x) => `${x.local}/${x.prefixlen} ${x.scope}`).sort(),
      [`${h.ip6}/64 global`, `${h.linkLocal}/64 link`].sort(),
      `${h.name}: exactly its two IPv6 addresses`,
    );
    t.same(
      addrs.filter((x) => x.tentative === true),
      [],
      `${h.name}: none tentative`,
    );
    t.equal(
      (await lab.exec(h.name, ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'tentative'])).stdout,
      '',
      'ip -6 addr ... tentative is empty',
    );
  }
  t.equal(
    (await lab.exec('a', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes('10.232.11.1/24'),
    true,
    'IPv4 as before',
  );
  t.match(
    (await lab.exec(lab.switchNs, ['sysctl', '-n', 'net.ipv6.conf.all.disable_ipv6'])).stdout,
    /^1/,
    'IPv6 stays off in the switch namespace',
  );

  const cap = await lab.capture('b', { filter: 'icmp6' });
  const g = await lab.exec('a', ['ping', '-6', '-n', '-c', '1', '-W', '2', b.ip6!], { timeoutMs: 5000 });
  t.match(g.stdout, /1 received/, 'a pings b at its global address');
  const ll = await lab.exec('a', ['ping', '-6', '-n', '-c', '1', '-W', '2', '-I', 'eth0', b.linkLocal!], { timeoutMs: 5000 });
  t.match(ll.stdout, /1 received/, "a pings b's link-local address");
  const text = await (await cap.stop()).text();
  t.match(text, new RegExp(`${a.ip6!} > ${b.ip6!}: .*ICMP6, echo request`), 'the global echo request crossed the bridge');
  t.match(text, new RegExp(`${a.linkLocal!} > ${b.linkLocal!}: .*ICMP6, echo request`), 'the link-local one too');
  t.notMatch(text, /IP6 :: >|router solicitation/, 'no DAD probe (source ::), no router solicitation');
  t.equal(
    (await lab.exec('a', ['sysctl', '-n', 'net.ipv6.conf.eth0.accept_dad', 'net.ipv6.conf.eth0.router_solicitations'])).stdout,
    '0\n0\n',
    "eth0: DAD and router solicitations off (the captures' only IPv6 is the tests' own)",
  );
});
