// One test per receive check (RFC 3768 7.1 as keepalived 2.2.7 implements it, docs/keepalived-behaviour.md 3.3),
// then ordering tests: when two checks fail, keepalived's order decides which reason is reported.
import t, { type Test as TapTest } from 'tap';
import { encodeAdvert, passwordToWire, peekVrid, type AdvertFields } from '../../src/protocol/advert.js';
import { decodeAdvert, type AdvertExpectations } from '../../src/protocol/advert-checks.js';
import {
  DROP_REASONS,
  DROPS_BEFORE_VRID,
  DROPS_COUNTED_AS_RECEIVED,
  type DecodeResult,
  type DropReason,
} from '../../src/protocol/drop-reasons.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { internetChecksum } from '../../src/protocol/checksum.js';

type Test = TapTest;

const FIELDS: AdvertFields = {
  vrid: 51,
  priority: 100,
  authType: 1,
  authPass: 'secret',
  adverIntSec: 1,
  vips: ['10.0.0.100', '10.0.0.101'],
};
const EXP: AdvertExpectations = {
  adverIntSec: 1,
  authType: 1,
  authPass: 'secret',
  vips: ['10.0.0.100', '10.0.0.101'],
  checkVips: true,
  unicast: false,
};
const NOAUTH_FIELDS: AdvertFields = { ...FIELDS, authType: 0 };
const NOAUTH_EXP: AdvertExpectations = { ...EXP, authType: 0 };
const UNICAST_EXP: AdvertExpectations = {
  ...NOAUTH_EXP,
  unicast: true,
  checkUnicastSrc: true,
  unicastPeers: [
    { ip: '10.0.0.3', minTtl: 0, maxTtl: 255 },
    { ip: '10.0.0.2', minTtl: 250, maxTtl: 255 },
  ],
};

interface PacketOptions {
  fields?: Partial<AdvertFields>;
  src?: string;
  dst?: string;
  ttl?: number;
  /** Mutate the VRRP message; its checksum is recomputed afterwards unless keepChecksum. */
  vrrp?: (b: Buffer) => void;
  keepChecksum?: boolean;
  /** Mutate the finished IPv4 packet (may return a new buffer). */
  ip?: (b: Buffer) => Buffer | void;
}

function packet(o: PacketOptions = {}): Buffer {
  const vrrp = encodeAdvert({ ...FIELDS, ...o.fields });
  if (o.vrrp) {
    o.vrrp(vrrp);
    if (o.keepChecksum !== true) {
      vrrp.writeUInt16BE(0, 6);
      vrrp.writeUInt16BE(internetChecksum(vrrp), 6);
    }
  }
  const ip = buildIpv4Packet({ srcIp: o.src ?? '10.0.0.2', dstIp: o.dst ?? '224.0.0.18', ttl: o.ttl ?? 255, id: 1, payload: vrrp });
  return (o.ip && o.ip(ip)) || ip;
}

/** An IPv4 packet with keepalived's 24-byte AH header (next header 112) before a VRRP message. */
function ahPacket(fields: Partial<AdvertFields> = {}, nextHeader = 112): Buffer {
  const vrrp = encodeAdvert({ ...FIELDS, authType: 2, ...fields });
  const ah = Buffer.alloc(24);
  ah[0] = nextHeader;
  ah[1] = 4;
  ah.writeUInt32BE(0x0a000002, 4); // keepalived puts the source address in the SPI
  ah.writeUInt32BE(1, 8);
  return buildIpv4Packet({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', ttl: 255, id: 1, protocol: 51, payload: Buffer.concat([ah, vrrp]) });
}

/** Drop the 8 auth bytes (as a VRRPv3 message has none) and fix the IPv4 total length. */
function withoutAuth(p: Buffer): Buffer {
  const short = Buffer.from(p.subarray(0, p.length - 8));
  short.writeUInt16BE(short.length, 2);
  return short;
}

function expectDrop(t: Test, r: DecodeResult, reason: DropReason, detail?: string): void {
  if (r.ok) {
    t.fail(`expected a ${reason} drop, but the advert was accepted`);
    return;
  }
  t.equal(r.reason, reason, 'reason');
  if (detail !== undefined) t.equal(r.detail, detail, 'detail in keepalived wording');
}

t.test('accepts a valid advert', async (t) => {
  const r = decodeAdvert(packet(), EXP);
  t.ok(r.ok);
  if (r.ok) {
    t.match(r.advert, { version: 2, type: 1, vrid: 51, priority: 100, authType: 1, adverIntSec: 1, vips: ['10.0.0.100', '10.0.0.101'] });
    t.same([...r.advert.authData], [...Buffer.from('secret\0\0')]);
    t.same(r.envelope, { srcIp: '10.0.0.2', dstIp: '224.0.0.18', ttl: 255 });
  }
});

t.test('DROP_REASONS lists every reason once, in check order', async (t) => {
  t.equal(new Set(DROP_REASONS).size, DROP_REASONS.length);
  t.equal(DROP_REASONS[0], 'ip-header');
  t.equal(DROP_REASONS[DROP_REASONS.length - 1], 'ttl-range');
  for (const r of DROPS_COUNTED_AS_RECEIVED) t.ok(DROP_REASONS.includes(r));
  for (const r of DROPS_BEFORE_VRID) t.ok(DROP_REASONS.includes(r));
});

t.test('passwordToWire truncates to 8 bytes and NUL-pads', async (t) => {
  t.equal(Buffer.from(passwordToWire('abc')).toString('hex'), '6162630000000000');
  t.equal(Buffer.from(passwordToWire('verylongpassword')).toString(), 'verylong');
  t.equal(Buffer.from(passwordToWire('secret12', 0)).toString('hex'), '0000000000000000', 'zeros without PASS');
  t.equal(Buffer.from(passwordToWire(undefined)).toString('hex'), '0000000000000000');
});

// --- before the VRID is known -----------------------------------------------------------------

t.test('drops a buffer that is not a well-formed IPv4 header', async (t) => {
  expectDrop(t, decodeAdvert(new Uint8Array(0), EXP), 'ip-header', 'IPv4 VRRP packet too short - 0 bytes');
  expectDrop(t, decodeAdvert(packet().subarray(0, 19), EXP), 'ip-header');
  expectDrop(t, decodeAdvert(packet({ ip: (b) => void (b[0] = 0x65) }), EXP), 'ip-header', 'not an IPv4 packet (IP version 6)');
  expectDrop(t, decodeAdvert(packet({ ip: (b) => void (b[0] = 0x44) }), EXP), 'ip-header');
  expectDrop(
    t,
    decodeAdvert(packet({ ip: (b) => void (b[0] = 0x4f) }), EXP),
    'ip-header',
    'invalid IPv4 header length 60 in a 44 byte packet',
  );
  t.equal(peekVrid(new Uint8Array(3)), undefined);
});

t.test('drops a packet that is neither VRRP nor AH', async (t) => {
  expectDrop(t, decodeAdvert(packet({ ip: (b) => void (b[9] = 17) }), EXP), 'not-vrrp', 'IP protocol 17 is neither VRRP (112) nor AH (51)');
  t.equal(peekVrid(packet({ ip: (b) => void (b[9] = 17) })), undefined);
});

t.test('drops a packet too short to hold the VRRP header', async (t) => {
  const p = packet().subarray(0, 27);
  expectDrop(t, decodeAdvert(p, EXP), 'truncated', 'IPv4 VRRP packet too short - 27 bytes');
  t.equal(peekVrid(p), undefined);
  expectDrop(
    t,
    decodeAdvert(ahPacket().subarray(0, 51), { ...EXP, authType: 2 }),
    'truncated',
    'IPv4 VRRP packet with AH too short - 51 bytes',
  );
  t.equal(peekVrid(packet().subarray(0, 28)), 51, 'IP header + 8 bytes is enough to demux');
});

t.test('peekVrid finds the VRID behind an AH header', async (t) => {
  t.equal(peekVrid(ahPacket({ vrid: 77 })), 77);
});

// --- vrrp_check_packet() steps ----------------------------------------------------------------

t.test('step 1: drops an AH packet for an instance without AH, and a plain one for an AH instance', async (t) => {
  expectDrop(t, decodeAdvert(ahPacket(), EXP), 'ah-mismatch', 'Received AH header but auth type not AH');
  expectDrop(t, decodeAdvert(packet(), { ...EXP, authType: 2 }), 'ah-mismatch', 'No AH header but auth type is AH');
});

t.test('step 2: drops a packet shorter than its header says', async (t) => {
  expectDrop(t, decodeAdvert(packet().subarray(0, 43), EXP), 'too-short', 'vrrp packet too short, length 43 and expect 44');
  // count says 3 VIPs but only 2 are present
  expectDrop(t, decodeAdvert(packet({ vrrp: (b) => void (b[3] = 3) }), EXP), 'too-short', 'vrrp packet too short, length 44 and expect 48');
});

t.test('step 2: drops a packet longer than its header says', async (t) => {
  expectDrop(
    t,
    decodeAdvert(packet({ ip: (b) => Buffer.concat([b, Buffer.alloc(4)]) }), EXP),
    'too-long',
    'vrrp packet too long, length 48 and expect 44',
  );
});

t.test('step 3: drops a multicast advert whose TTL is not 255', async (t) => {
  expectDrop(t, decodeAdvert(packet({ ttl: 64 }), EXP), 'ttl', 'invalid TTL/HL. Received 64 and expect 255');
  expectDrop(t, decodeAdvert(packet({ ttl: 254 }), EXP), 'ttl');
});

t.test('step 3: does not check TTL 255 for a unicast instance', async (t) => {
  const r = decodeAdvert(packet({ fields: NOAUTH_FIELDS, dst: '10.0.0.1', ttl: 64 }), { ...NOAUTH_EXP, unicast: true });
  t.ok(r.ok);
});

t.test('step 4: drops an advert whose version is not 2', async (t) => {
  // keepalived sizes the message from the received version: only v2 carries 8 auth bytes, so a
  // non-v2 message reaches the version check only if it is 8 + 4n bytes long (as VRRPv3 is)
  expectDrop(
    t,
    decodeAdvert(withoutAuth(packet({ vrrp: (b) => void (b[0] = 0x31) })), EXP),
    'version',
    'wrong version. Received 3 and expect 2',
  );
  expectDrop(
    t,
    decodeAdvert(withoutAuth(packet({ vrrp: (b) => void (b[0] = 0x11) })), EXP),
    'version',
    'wrong version. Received 1 and expect 2',
  );
});

t.test('step 5: drops an advert with an auth type that is not 0, 1 or 2', async (t) => {
  expectDrop(t, decodeAdvert(packet({ vrrp: (b) => void (b[4] = 3) }), EXP), 'auth-type-invalid', 'Invalid auth type: 3');
});

t.test('step 5: drops an advert whose auth type differs from ours', async (t) => {
  expectDrop(t, decodeAdvert(packet({ fields: { authType: 0 } }), EXP), 'auth-type-mismatch', 'received a 0 auth, expecting 1!');
  expectDrop(t, decodeAdvert(packet(), NOAUTH_EXP), 'auth-type-mismatch', 'received a 1 auth, expecting 0!');
});

t.test('step 5: drops a PASS advert with the wrong password', async (t) => {
  expectDrop(t, decodeAdvert(packet({ fields: { authPass: 'secreT' } }), EXP), 'auth-password', 'received an invalid passwd!');
  const r = decodeAdvert(packet({ fields: { authPass: 'secret\0x' } }), EXP);
  t.equal(r.ok ? 'accepted' : r.reason, 'auth-password', 'bytes after the NUL count');
});

t.test('step 5: compares only the first 8 bytes of a configured password', async (t) => {
  const r = decodeAdvert(packet({ fields: { authPass: 'verylongpassword' } }), { ...EXP, authPass: 'verylongPASSWORD' });
  t.ok(r.ok, 'both truncate to "verylong"');
});

t.test('step 5: drops AH adverts (HMAC-MD5-96 is not implemented), or AH for another protocol', async (t) => {
  expectDrop(t, decodeAdvert(ahPacket(), { ...EXP, authType: 2 }), 'ah-unsupported');
  expectDrop(t, decodeAdvert(ahPacket({}, 6), { ...EXP, authType: 2 }), 'not-vrrp', 'AH header for IP protocol 6, not VRRP');
});

t.test('step 6: drops an advert whose interval differs from advert_int', async (t) => {
  expectDrop(
    t,
    decodeAdvert(packet({ fields: { adverIntSec: 2 } }), EXP),
    'interval-mismatch',
    "advertisement interval mismatch mine=1 sec rcv'd=2 sec",
  );
});

t.test('step 7: drops a packet whose type is not ADVERTISEMENT', async (t) => {
  expectDrop(t, decodeAdvert(packet({ vrrp: (b) => void (b[0] = 0x22) }), EXP), 'type', 'Invalid packet type. 2 and expect 1');
});

t.test('step 8: with address checking, drops an advert with a different VIP count', async (t) => {
  const p = packet({ fields: { vips: ['10.0.0.100'] } });
  expectDrop(t, decodeAdvert(p, EXP), 'vip-count', 'received an unexpected ip number count 1, expected 2!');
  t.ok(decodeAdvert(p, { ...EXP, checkVips: false }).ok, 'skipped without address checking (skip_check_adv_addr, same master)');
});

t.test('step 9: drops a packet whose IPv4 total length differs from the received length', async (t) => {
  const p = packet({ fields: NOAUTH_FIELDS, ip: (b) => void b.writeUInt16BE(60, 2) });
  expectDrop(t, decodeAdvert(p, NOAUTH_EXP), 'ip-length', 'ip_tot_len mismatch against received length. 60 and received 44');
});

t.test('step 10: drops an advert whose VRRP checksum does not verify', async (t) => {
  expectDrop(
    t,
    decodeAdvert(packet({ vrrp: (b) => void (b[7] = (b[7] ?? 0) ^ 1), keepChecksum: true }), EXP),
    'checksum',
    'Invalid VRRPv2 checksum',
  );
  // the checksum covers the auth data too
  const p = packet({ fields: NOAUTH_FIELDS, ip: (b) => void (b[b.length - 1] = 1) });
  expectDrop(t, decodeAdvert(p, NOAUTH_EXP), 'checksum');
});

t.test('step 11: drops a unicast packet for a multicast instance', async (t) => {
  expectDrop(
    t,
    decodeAdvert(packet({ dst: '10.0.0.1' }), EXP),
    'expected-multicast',
    'Expected multicast packet but received unicast packet',
  );
});

t.test('step 11: drops a multicast packet for a unicast instance', async (t) => {
  expectDrop(
    t,
    decodeAdvert(packet({ fields: NOAUTH_FIELDS }), UNICAST_EXP),
    'expected-unicast',
    'Expected unicast packet but received multicast packet',
  );
});

t.test('step 13: with address checking, drops an advert missing one of our VIPs', async (t) => {
  const p = packet({ fields: { vips: ['10.0.0.100', '10.0.0.102'] } });
  expectDrop(
    t,
    decodeAdvert(p, { ...EXP, vips: ['10.0.0.100', '10.0.0.101'] }),
    'vip-missing',
    'ip address associated with VRID 51 not present in MASTER advert: 10.0.0.101',
  );
  t.ok(decodeAdvert(p, { ...EXP, checkVips: false }).ok, 'skipped without address checking');
  t.ok(decodeAdvert(packet({ fields: { vips: ['10.0.0.101', '10.0.0.100'] } }), EXP).ok, 'order does not matter');
  t.ok(DROPS_COUNTED_AS_RECEIVED.has('vip-missing'), 'keepalived has already counted it as a received advert');
});

t.test('step 13: with check_unicast_src, drops an advert from a source that is not a unicast peer', async (t) => {
  const p = packet({ fields: NOAUTH_FIELDS, src: '10.0.0.9', dst: '10.0.0.1' });
  expectDrop(t, decodeAdvert(p, UNICAST_EXP), 'not-a-peer', 'unicast source address 10.0.0.9 not a unicast peer');
  t.ok(decodeAdvert(p, { ...UNICAST_EXP, checkUnicastSrc: false }).ok, 'accepted without check_unicast_src');
  t.ok(decodeAdvert(packet({ fields: NOAUTH_FIELDS, src: '10.0.0.3', dst: '10.0.0.1' }), UNICAST_EXP).ok, 'any listed peer');
});

t.test("step 13: with check_unicast_src, drops an advert whose TTL is outside the peer's min_ttl..max_ttl", async (t) => {
  const p = packet({ fields: NOAUTH_FIELDS, dst: '10.0.0.1', ttl: 249 });
  expectDrop(t, decodeAdvert(p, UNICAST_EXP), 'ttl-range', 'TTL/HL 249 not in range 250 - 255');
  t.ok(decodeAdvert(packet({ fields: NOAUTH_FIELDS, dst: '10.0.0.1', ttl: 250 }), UNICAST_EXP).ok, 'bounds are inclusive');
});

// --- ordering: keepalived reports the first failing check ---------------------------------------

t.test('ordering', async (t) => {
  const cases: { name: string; p: Buffer; exp?: AdvertExpectations; reason: DropReason }[] = [
    {
      name: 'AH mismatch before length',
      p: packet({ ip: (b) => Buffer.concat([b, Buffer.alloc(1)]) }),
      exp: { ...EXP, authType: 2 },
      reason: 'ah-mismatch',
    },
    { name: 'length before TTL', p: packet({ ttl: 1, ip: (b) => Buffer.concat([b, Buffer.alloc(1)]) }), reason: 'too-long' },
    { name: 'TTL before version', p: withoutAuth(packet({ ttl: 64, vrrp: (b) => void (b[0] = 0x31) })), reason: 'ttl' },
    {
      name: 'version before auth type',
      p: withoutAuth(
        packet({
          vrrp: (b) => {
            b[0] = 0x31;
            b[4] = 9;
          },
        }),
      ),
      reason: 'version',
    },
    {
      name: 'invalid auth type before auth mismatch',
      p: packet({ vrrp: (b) => void (b[4] = 7) }),
      exp: NOAUTH_EXP,
      reason: 'auth-type-invalid',
    },
    { name: 'password before interval', p: packet({ fields: { authPass: 'nope', adverIntSec: 3 } }), reason: 'auth-password' },
    {
      name: 'interval before type',
      p: packet({ fields: { adverIntSec: 3 }, vrrp: (b) => void (b[0] = 0x22) }),
      reason: 'interval-mismatch',
    },
    { name: 'type before VIP count', p: packet({ fields: { vips: ['10.0.0.100'] }, vrrp: (b) => void (b[0] = 0x22) }), reason: 'type' },
    {
      name: 'VIP count before IP total length',
      p: packet({ fields: { ...NOAUTH_FIELDS, vips: ['10.0.0.100'] }, ip: (b) => void b.writeUInt16BE(99, 2) }),
      exp: NOAUTH_EXP,
      reason: 'vip-count',
    },
    {
      name: 'IP total length before checksum',
      p: packet({
        fields: NOAUTH_FIELDS,
        vrrp: (b) => void (b[6] = (b[6] ?? 0) ^ 0xff),
        keepChecksum: true,
        ip: (b) => void b.writeUInt16BE(99, 2),
      }),
      exp: NOAUTH_EXP,
      reason: 'ip-length',
    },
    {
      name: 'checksum before destination kind',
      p: packet({ dst: '10.0.0.1', vrrp: (b) => void (b[6] = (b[6] ?? 0) ^ 0xff), keepChecksum: true }),
      reason: 'checksum',
    },
    {
      name: 'destination kind before VIP set',
      p: packet({ dst: '10.0.0.1', fields: { vips: ['10.0.0.100', '10.0.0.7'] } }),
      reason: 'expected-multicast',
    },
    {
      name: 'VIP set before unicast source',
      p: packet({ fields: { ...NOAUTH_FIELDS, vips: ['10.0.0.100', '10.0.0.7'] }, src: '10.0.0.9', dst: '10.0.0.1' }),
      exp: UNICAST_EXP,
      reason: 'vip-missing',
    },
    {
      name: 'unicast source before TTL range',
      p: packet({ fields: NOAUTH_FIELDS, src: '10.0.0.9', dst: '10.0.0.1', ttl: 1 }),
      exp: UNICAST_EXP,
      reason: 'not-a-peer',
    },
    // keepalived reads the password at (IP total length - 8), before it checks the total length
    {
      name: 'a wrong IP total length shows up as a bad password with PASS',
      p: packet({ ip: (b) => void b.writeUInt16BE(40, 2) }),
      reason: 'auth-password',
    },
    {
      name: 'a VRRPv3 message with v2 length is too long before it is the wrong version',
      p: packet({ vrrp: (b) => void (b[0] = 0x31) }),
      reason: 'too-long',
    },
    { name: 'a VRRPv1 message with v2 length is too long too', p: packet({ vrrp: (b) => void (b[0] = 0x11) }), reason: 'too-long' },
  ];
  for (const c of cases) {
    const r = decodeAdvert(c.p, c.exp ?? EXP);
    t.equal(r.ok ? 'accepted' : r.reason, c.reason, c.name);
  }
});

t.test('without address checking, keepalived also skips the unicast source and TTL range checks', async (t) => {
  const p = packet({ fields: NOAUTH_FIELDS, src: '10.0.0.9', dst: '10.0.0.1', ttl: 1 });
  t.ok(decodeAdvert(p, { ...UNICAST_EXP, checkVips: false }).ok);
});

t.test('priority 0 adverts decode like any other', async (t) => {
  const r = decodeAdvert(packet({ fields: { priority: 0 } }), EXP);
  t.ok(r.ok && r.advert.priority === 0);
});

t.test('encoder rejects out-of-range fields as bugs', async (t) => {
  t.throws(() => encodeAdvert({ ...FIELDS, vrid: 0 }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, vrid: 256 }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, priority: 256 }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, adverIntSec: 0 }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, adverIntSec: 1.5 }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, vips: ['10.0.0.1/24'] }), RangeError);
  t.throws(() => encodeAdvert({ ...FIELDS, vips: Array.from({ length: 256 }, () => '10.0.0.1') }), RangeError);
  t.throws(() => buildIpv4Packet({ srcIp: '10.0.0.1', dstIp: '224.0.0.18', ttl: 256, id: 1, payload: new Uint8Array(0) }), RangeError);
  t.throws(() => buildIpv4Packet({ srcIp: '10.0.0.1', dstIp: '224.0.0.18', ttl: 255, id: 65536, payload: new Uint8Array(0) }), RangeError);
  t.throws(() => buildIpv4Packet({ srcIp: '010.0.0.1', dstIp: '224.0.0.18', ttl: 255, id: 1, payload: new Uint8Array(0) }), RangeError);
});

t.test('an advert with no VIPs round-trips (keepalived only warns about it for v2)', async (t) => {
  const r = decodeAdvert(packet({ fields: { vips: [] } }), { ...EXP, vips: [] });
  t.ok(r.ok && r.advert.vips.length === 0);
});
