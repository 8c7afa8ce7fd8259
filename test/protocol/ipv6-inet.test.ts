import t from 'tap';
import { isIPv6 } from 'node:net';
import {
  formatIpv6,
  formatIpv6At,
  ipv6OrThrow,
  isIpv6LinkLocalBytes,
  isIpv6MulticastByte,
  parseIpv6,
} from '../../src/protocol/ipv6-address.js';

t.test('reads what inet_pton reads and writes what inet_ntop writes', async (t) => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['FE80::1', 'fe80::1'],
    ['ff02::12', 'ff02::12'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['0001:0002:0003:0004:0005:0006:0007:0008', '1:2:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1.2.3.4', '::1.2.3.4'],
    ['a::1.2.3.4', 'a::102:304'],
    ['fd00:61::100', 'fd00:61::100'],
  ];
  for (const [text, canonical] of cases) {
    const b = parseIpv6(text);
    t.ok(b, `${text} parses`);
    t.equal(b && formatIpv6(b), canonical, `${text} -> ${canonical}`);
  }
});

t.test('refuses what is not an address, as net.isIPv6 does (zones aside)', async (t) => {
  for (const bad of [
    ':',
    '1:2',
    ':::',
    '1::2::3',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1.2.3',
    'g::',
    ':1::',
    '1:2:3:4:5:6:7:1.2.3.4',
    '10.0.0.1',
    '',
  ]) {
    t.equal(parseIpv6(bad), undefined, `${JSON.stringify(bad)} refused`);
    t.equal(isIPv6(bad), false, `node agrees on ${JSON.stringify(bad)}`);
  }
  t.equal(parseIpv6('fe80::1%eth0'), undefined, 'a zone is not part of an address');
  t.throws(() => ipv6OrThrow('nope', 'VIP'), RangeError);
  t.equal(formatIpv6At(Buffer.alloc(15)), undefined, 'fewer than 16 bytes');
});

t.test('classes', async (t) => {
  t.ok(isIpv6LinkLocalBytes(parseIpv6('fe80::1')!));
  t.ok(isIpv6LinkLocalBytes(parseIpv6('febf::1')!));
  t.notOk(isIpv6LinkLocalBytes(parseIpv6('fec0::1')!));
  t.ok(isIpv6MulticastByte(parseIpv6('ff02::12')![0]!));
  t.notOk(isIpv6MulticastByte(parseIpv6('fd00::12')![0]!));
});
