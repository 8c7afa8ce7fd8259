// IPv6 text forms the v3 codec reads and prints (RFC 4291 2.2 in, RFC 5952 out, as inet_pton/inet_ntop).
import t from 'tap';
import { canonicalIpv6, formatIpv6, isIpv6Multicast, parseIpv6 } from '../../src/protocol/ipv6-address.js';

t.test('parses the RFC 4291 forms to 16 bytes', async (t) => {
  t.equal(parseIpv6('ff02::12')?.toString('hex'), 'ff020000000000000000000000000012');
  t.equal(parseIpv6('::')?.toString('hex'), '0'.repeat(32));
  t.equal(parseIpv6('::1')?.toString('hex'), '0'.repeat(31) + '1');
  t.equal(parseIpv6('fe80::')?.toString('hex'), 'fe80' + '0'.repeat(28));
  t.equal(parseIpv6('2001:DB8:0:0:1:0:0:1')?.toString('hex'), '20010db8000000000001000000000001');
  t.equal(parseIpv6('::ffff:10.1.2.3')?.toString('hex'), '00000000000000000000ffff0a010203');
  t.equal(parseIpv6('1:2:3:4:5:6:1.2.3.4')?.toString('hex'), '00010002000300040005000601020304');
});

t.test('refuses what inet_pton refuses', async (t) => {
  for (const bad of [
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '12345::',
    'g::1',
    '1::2:3:4:5:6:7:8',
    '::1.2.3',
    '1.2.3.4::',
    'fe80::1%eth0',
    'fd00::1/64',
    ':1::',
    '1:2:3:4:5:6:7:8::',
  ])
    t.equal(parseIpv6(bad), undefined, JSON.stringify(bad));
});

t.test('prints RFC 5952 text, as inet_ntop does', async (t) => {
  const cases: [string, string][] = [
    ['FF02:0:0:0:0:0:0:12', 'ff02::12'],
    ['fd00:232:0:0:0:0:0:100', 'fd00:232::100'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:1:0:0:0:2:3', '0:0:1::2:3'], // the longest run wins
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
  ];
  for (const [input, want] of cases) t.equal(canonicalIpv6(input), want, input);
  t.equal(canonicalIpv6('nope'), null);
  const b = Buffer.concat([Buffer.from([9, 9]), parseIpv6('fe80::a:1') ?? Buffer.alloc(0)]);
  t.equal(formatIpv6(b, 2), 'fe80::a:1', 'at an offset');
});

t.test('multicast is ff00::/8', async (t) => {
  t.ok(isIpv6Multicast('ff02::12'));
  t.notOk(isIpv6Multicast('fe80::1'));
  t.notOk(isIpv6Multicast('not an address'));
});
