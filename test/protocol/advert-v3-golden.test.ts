// Golden vectors for VRRPv3: adverts captured from the real keepalived 2.2.7 (test/fixtures/v3/README.md,
// and test/fixtures/adverts/mc-v3.hex) must be reproduced byte for byte by encodeAdvertV3 (IPv4: with
// buildIpv4Packet, the whole IP packet) from the same inputs, and accepted by the v3 decoders.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { encodeAdvertV3, type AdvertV3Fields } from '../../src/protocol/advert-v3.js';
import { decodeAdvertV3Ipv4, decodeAdvertV3Ipv6, type AdvertV3Expectations } from '../../src/protocol/advert-v3-checks.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { formatIpv6 } from '../../src/protocol/ipv6-address.js';
import { peekVrid } from '../../src/protocol/advert.js';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** Ethernet frames from a fixture file: one hex line per frame, '#' lines are comments. */
function readFrames(path: string): Buffer[] {
  return readFileSync(new URL(path, FIXTURES), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'hex'));
}

interface Scenario {
  file: string;
  /** As configured in test/fixtures/v3/keepalived.conf; srcIp/dstIp are the capture's. */
  fields: Omit<AdvertV3Fields, 'priority'> & { priority: number };
  unicast: boolean;
  /** The receiver's view: its peer when unicast. */
  peer?: string;
}

const V4 = '10.232.0.1';
const V6_LL = 'fe80::a:1';
const mc4 = { family: 'ipv4' as const, srcIp: V4, dstIp: '224.0.0.18' };
const uc4 = { family: 'ipv4' as const, srcIp: V4, dstIp: '10.232.0.2' };
const mc6 = { family: 'ipv6' as const, srcIp: V6_LL, dstIp: 'ff02::12' };

const scenarios: Scenario[] = [
  { file: 'v3/v4-mc-1s.hex', fields: { ...mc4, vrid: 61, priority: 150, maxAdverIntCs: 100, vips: ['10.232.0.100'] }, unicast: false },
  {
    file: 'v3/v4-mc-fast.hex',
    fields: { ...mc4, vrid: 62, priority: 100, maxAdverIntCs: 10, vips: ['10.232.0.111', '10.232.0.110', '10.232.0.112'] },
    unicast: false,
  },
  {
    file: 'v3/v4-uc.hex',
    fields: { ...uc4, vrid: 63, priority: 200, maxAdverIntCs: 50, vips: ['10.232.0.120', '10.232.0.121'] },
    unicast: true,
    peer: V4,
  },
  {
    file: 'v3/v4-uc-old.hex',
    fields: { ...uc4, vrid: 64, priority: 90, maxAdverIntCs: 100, vips: ['10.232.0.130'], checksumMode: 'old-unicast' },
    unicast: true,
    peer: V4,
  },
  { file: 'v3/v4-owner-max.hex', fields: { ...mc4, vrid: 65, priority: 255, maxAdverIntCs: 4095, vips: ['10.232.0.140'] }, unicast: false },
  {
    file: 'v3/v6-mc-1s.hex',
    fields: { ...mc6, vrid: 71, priority: 120, maxAdverIntCs: 100, vips: ['fd00:232::100', 'fd00:232::101'] },
    unicast: false,
  },
  {
    file: 'v3/v6-mc-fast.hex',
    fields: { ...mc6, vrid: 72, priority: 254, maxAdverIntCs: 10, vips: ['fd00:232::112', 'fd00:232::110', 'fd00:232::111'] },
    unicast: false,
  },
  {
    file: 'v3/v6-uc.hex',
    fields: {
      family: 'ipv6',
      srcIp: 'fd00:232::1',
      dstIp: 'fd00:232::2',
      vrid: 73,
      priority: 1,
      maxAdverIntCs: 5,
      vips: ['fd00:232::120'],
    },
    unicast: true,
    peer: 'fd00:232::1',
  },
  // recorded with the v2 fixtures (test/fixtures/adverts/README.md): VRID 56, version 3, advert_int 1
  {
    file: 'adverts/mc-v3.hex',
    fields: {
      family: 'ipv4',
      srcIp: '10.231.0.1',
      dstIp: '224.0.0.18',
      vrid: 56,
      priority: 120,
      maxAdverIntCs: 100,
      vips: ['10.231.0.140'],
    },
    unicast: false,
  },
];

function expectations(s: Scenario): AdvertV3Expectations {
  return {
    family: s.fields.family,
    vips: s.fields.vips,
    checkVips: true,
    unicast: s.unicast,
    ...(s.fields.checksumMode !== undefined ? { checksumMode: s.fields.checksumMode } : {}),
    ...(s.peer !== undefined ? { checkUnicastSrc: true, unicastPeers: [{ ip: s.peer, minTtl: 0, maxTtl: 255 }] } : {}),
  };
}

/** One captured IPv4 frame: the whole IP packet rebuilt, then decoded. Returns the priority. */
function checkIpv4(t: Test, s: Scenario, frame: Buffer, i: number): number {
  t.equal(frame.readUInt16BE(12), 0x0800, 'IPv4 ethertype');
  const ip = frame.subarray(14);
  const priority = ip[20 + 2] ?? -1;
  const payload = encodeAdvertV3({ ...s.fields, priority });
  const built = buildIpv4Packet({ srcIp: s.fields.srcIp, dstIp: s.fields.dstIp, ttl: 255, id: ip.readUInt16BE(4), payload });
  t.equal(built.toString('hex'), ip.toString('hex'), `frame ${i + 1} (priority ${priority}) reproduced exactly`);
  t.equal(peekVrid(ip), s.fields.vrid, 'peekVrid reads the VRID of a v3 packet too');
  const r = decodeAdvertV3Ipv4(ip, expectations(s));
  t.match(r, {
    ok: true,
    advert: { version: 3, vrid: s.fields.vrid, priority, maxAdverIntCs: s.fields.maxAdverIntCs, vips: s.fields.vips },
  });
  t.same(r.ok && r.envelope, { srcIp: s.fields.srcIp, dstIp: s.fields.dstIp, ttl: 255 }, 'envelope');
  return priority;
}

/** One captured IPv6 frame: the VRRP message rebuilt from the header's src/dst, then decoded. */
function checkIpv6(t: Test, s: Scenario, frame: Buffer, i: number): number {
  t.equal(frame.readUInt16BE(12), 0x86dd, 'IPv6 ethertype');
  const ip6 = frame.subarray(14);
  t.equal(ip6[6], 112, 'next header VRRP, no extension header');
  // keepalived sets IPV6_MULTICAST_HOPS 255 only: unicast adverts leave with the interface's default (64 here)
  t.equal(
    ip6[7],
    s.unicast ? 64 : 255,
    s.unicast ? 'unicast: the kernel default hop limit' : 'multicast: hop limit 255 (RFC 5798 5.1.2.3)',
  );
  const src = formatIpv6(ip6, 8);
  const dst = formatIpv6(ip6, 24);
  t.same([src, dst], [s.fields.srcIp, s.fields.dstIp], 'pseudo-header inputs');
  const payload = ip6.subarray(40, 40 + ip6.readUInt16BE(4));
  const priority = payload[2] ?? -1;
  t.equal(
    encodeAdvertV3({ ...s.fields, priority }).toString('hex'),
    payload.toString('hex'),
    `frame ${i + 1} (priority ${priority}) reproduced exactly`,
  );
  const r = decodeAdvertV3Ipv6({ payload, srcIp: src, dstIp: dst, hopLimit: ip6[7] ?? 0 }, expectations(s));
  t.match(r, { ok: true, advert: { version: 3, family: 'ipv6', vrid: s.fields.vrid, priority, vips: s.fields.vips } });
  return priority;
}

for (const s of scenarios) {
  t.test(`keepalived capture ${s.file}`, async (t) => {
    const frames = readFrames(s.file);
    t.ok(frames.length >= 2, 'adverts and the final priority-0 one');
    const priorities = frames.map((frame, i) => (s.fields.family === 'ipv6' ? checkIpv6 : checkIpv4)(t, s, frame, i));
    t.equal(priorities.at(-1), 0, 'the last advert is the priority-0 one sent on SIGTERM');
    t.ok(
      priorities.slice(0, -1).every((p) => p === s.fields.priority),
      'the others carry the configured priority',
    );
  });
}

t.test('old_unicast_checksum capture: a default unicast receiver accepts it and is told to switch', async (t) => {
  const s = scenarios.find((x) => x.file === 'v3/v4-uc-old.hex');
  if (s === undefined) throw new Error('scenario missing');
  for (const frame of readFrames(s.file)) {
    const r = decodeAdvertV3Ipv4(frame.subarray(14), { ...expectations(s), checksumMode: 'pseudo-header' });
    t.match(r, { ok: true, oldUnicastChecksum: true });
    const never = decodeAdvertV3Ipv4(frame.subarray(14), { ...expectations(s), checksumMode: 'pseudo-header', detectOldUnicast: false });
    t.match(never, { ok: false, reason: 'checksum' }, 'old_unicast_checksum never');
  }
});
