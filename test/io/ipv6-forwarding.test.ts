/**
 * io/ipv6-forwarding.ts (the NA Router flag's source) in a namespace (prefix vr-v6io-fw-, subnet
 * 10.232.64.0/24): read where the interface is, it follows `net.ipv6.conf.eth0.forwarding` there.
 */
import t from 'tap';
import { readIpv6Forwarding } from '../../src/io/ipv6-forwarding.js';
import { Lab, netnsSkip } from '../support/netns.js';
import { enableIpv6 } from '../support/lab-ipv6.js';

t.test('names no interface can have are refused before any file is opened', async (t) => {
  for (const bad of ['', '..', '.', 'a/b', 'a-very-long-ifname0', 'x\0y'])
    t.match(readIpv6Forwarding(bad), { ok: false, error: { code: 'EINVAL' } }, JSON.stringify(bad));
});

t.test('follows the sysctl of the namespace it is read in', { skip: netnsSkip() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vr-v6io-fw-', subnet: '10.232.64', hosts: ['a', 'b'] });
  await enableIpv6(lab, 'a');
  await enableIpv6(lab, 'b');
  await lab.exec('a', ['sysctl', '-qw', 'net.ipv6.conf.eth0.forwarding=1']);
  t.same(
    lab.inNetns('a', () => readIpv6Forwarding('eth0')),
    { ok: true, value: true },
    'on in a',
  );
  t.same(
    lab.inNetns('b', () => readIpv6Forwarding('eth0')),
    { ok: true, value: false },
    'off in b: the file shows the namespace of the reading thread',
  );
  await lab.exec('a', ['sysctl', '-qw', 'net.ipv6.conf.eth0.forwarding=0']);
  t.same(
    lab.inNetns('a', () => readIpv6Forwarding('eth0')),
    { ok: true, value: false },
    'off again in a',
  );
  t.match(
    lab.inNetns('a', () => readIpv6Forwarding('nosuch0')),
    { ok: false, error: { code: 'ENOENT', ifname: 'nosuch0' } },
  );
});
