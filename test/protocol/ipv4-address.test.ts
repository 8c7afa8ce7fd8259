// The one IPv4 address module: strict parsing (as inet_pton and net.isIPv4), the lenient reading
// kept for the callers that always had it, and the number/byte conversions.
import t from 'tap';
import { isIPv4 } from 'node:net';
import {
  canonicalIpv4,
  compareIpv4,
  formatIpv4,
  ipv4FromBytes,
  ipv4OrThrow,
  ipv4ToNumber,
  isIpv4Multicast,
  isIpv4MulticastByte,
  numberToIpv4,
  parseIpv4,
} from '../../src/protocol/ipv4-address.js';

t.test('parseIpv4 is strict by default', async (t) => {
  t.same([...(parseIpv4('10.0.0.1') ?? [])], [10, 0, 0, 1]);
  t.same([...(parseIpv4('255.255.255.255') ?? [])], [255, 255, 255, 255]);
  t.same([...(parseIpv4('0.0.0.0') ?? [])], [0, 0, 0, 0]);
  const bads = [
    '010.0.0.1',
    '10.0.0',
    '10.0.0.1.2',
    '256.0.0.1',
    '',
    '10..0.1',
    ' 10.0.0.1',
    '10.0.0.1 ',
    '+1.0.0.1',
    '0x1.0.0.1',
    '1e1.0.0.1',
  ];
  for (const bad of bads) {
    t.equal(parseIpv4(bad), undefined, JSON.stringify(bad));
  }
});

t.test('parseIpv4 with leadingZeros reads them as decimal (the io callers kept it)', async (t) => {
  t.same([...(parseIpv4('010.000.00.01', { leadingZeros: true }) ?? [])], [10, 0, 0, 1]);
  t.equal(parseIpv4('256.0.0.1', { leadingZeros: true }), undefined);
  t.equal(parseIpv4('0010.0.0.1', { leadingZeros: true }), undefined, 'still at most 3 digits');
  t.ok(Buffer.isBuffer(parseIpv4('10.0.0.1')), 'a Buffer, for sockets and netlink');
});

t.test('strict parseIpv4 accepts exactly what net.isIPv4 accepts (config used isIPv4 before)', async (t) => {
  let seed = 0x1234567;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const alphabet = '0123456789..........x ';
  let mismatches = 0;
  let valid = 0;
  for (let i = 0; i < 50_000; i++) {
    let str = '';
    if (rnd(2) === 0) {
      // near-valid quads: octets 0..299, sometimes zero-padded
      str = Array.from({ length: 3 + rnd(3) }, () => {
        const o = String(rnd(300));
        return rnd(8) === 0 ? `0${o}` : o;
      }).join('.');
    } else {
      for (let k = 0, n = rnd(18); k < n; k++) str += alphabet[rnd(alphabet.length)];
    }
    const ours = parseIpv4(str) !== undefined;
    if (ours !== isIPv4(str)) mismatches++;
    if (ours) valid++;
  }
  t.equal(mismatches, 0);
  t.ok(valid > 1000, `the sample has valid addresses too (${valid})`);
});

t.test('multicast', async (t) => {
  t.ok(isIpv4Multicast('224.0.0.18'));
  t.ok(isIpv4Multicast('239.255.255.255'));
  t.notOk(isIpv4Multicast('223.255.255.255'));
  t.notOk(isIpv4Multicast('240.0.0.1'));
  t.notOk(isIpv4Multicast('224.0.0.018'), 'strict');
  t.notOk(isIpv4Multicast('fe80::1'));
  t.ok(isIpv4MulticastByte(224) && isIpv4MulticastByte(239) && !isIpv4MulticastByte(240) && !isIpv4MulticastByte(223));
});

t.test('numbers and bytes', async (t) => {
  t.equal(ipv4ToNumber('10.0.0.1'), 0x0a000001);
  t.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
  t.equal(ipv4ToNumber('010.0.0.1'), 0x0a000001, 'leading zeros are decimal, as compareIpv4 always read them');
  t.throws(() => ipv4ToNumber('10.0.0'), RangeError);
  t.throws(() => ipv4ToNumber('10.0.0.256'), RangeError);
  t.equal(numberToIpv4(0xc0a80101), '192.168.1.1');
  t.equal(numberToIpv4(0xffffffff), '255.255.255.255');
  t.equal(numberToIpv4(ipv4ToNumber('10.20.30.40')), '10.20.30.40');
  t.ok(compareIpv4('10.0.0.9', '10.0.0.10') < 0);
  t.equal(formatIpv4(Uint8Array.from([0, 0, 10, 1, 2, 3]), 2), '10.1.2.3');
  t.equal(ipv4FromBytes(Uint8Array.from([10, 1, 2, 3])), '10.1.2.3');
  t.equal(ipv4FromBytes(Uint8Array.from([10, 1, 2])), undefined);
  t.equal(ipv4FromBytes(undefined), undefined);
  t.same([...ipv4OrThrow('10.0.0.1', 'vip')], [10, 0, 0, 1]);
  t.throws(() => ipv4OrThrow('010.0.0.1', 'vip'), /vip: not an IPv4 address/);
});

t.test('canonicalIpv4 prints strict quads, null otherwise (memo included)', async (t) => {
  for (let k = 0; k < 2; k++) {
    t.equal(canonicalIpv4('10.0.0.1'), '10.0.0.1');
    t.equal(canonicalIpv4('010.0.0.1'), null);
    t.equal(canonicalIpv4('nonsense'), null);
  }
});
