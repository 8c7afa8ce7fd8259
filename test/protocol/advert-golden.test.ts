// Golden vectors: adverts captured from the real keepalived 2.2.7 (test/fixtures/adverts/README.md)
// must be reproduced byte for byte by encodeAdvert + buildIpv4Packet, and accepted by decodeAdvert.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { encodeAdvert, passwordToWire, peekVrid, type AdvertFields } from '../../src/protocol/advert.js';
import { decodeAdvert, type AdvertExpectations } from '../../src/protocol/advert-checks.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { checksumIsValid, internetChecksum, onesComplementSum } from '../../src/protocol/checksum.js';
import { ETHERNET_HEADER_LEN, VRRP_MULTICAST_GROUP } from '../../src/protocol/constants.js';

const FIXTURES = new URL('../fixtures/adverts/', import.meta.url);

/** Ethernet frames from a fixture file: one hex line per frame, '#' lines are comments. */
function readFrames(name: string): Buffer[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'hex'));
}

const NODE_A_MAC = '02000ae70001';
const NODE_A_IP = '10.231.0.1';

interface Scenario {
  file: string;
  fields: AdvertFields; // as configured in test/fixtures/adverts/keepalived.conf
  dstIp: string;
  unicast: boolean;
}

const scenarios: Scenario[] = [
  {
    file: 'mc-noauth.hex',
    fields: { vrid: 51, priority: 150, authType: 0, adverIntSec: 1, vips: ['10.231.0.100'] },
    dstIp: VRRP_MULTICAST_GROUP,
    unicast: false,
  },
  {
    file: 'mc-pass-short.hex',
    fields: { vrid: 52, priority: 100, authType: 1, authPass: 'abc', adverIntSec: 1, vips: ['10.231.0.101'] },
    dstIp: VRRP_MULTICAST_GROUP,
    unicast: false,
  },
  {
    file: 'mc-pass-long-multi.hex',
    fields: {
      vrid: 53,
      priority: 200,
      authType: 1,
      authPass: 'verylongpassword',
      adverIntSec: 2,
      vips: ['10.231.0.110', '10.231.0.111', '10.231.0.113', '10.231.0.112'],
    },
    dstIp: VRRP_MULTICAST_GROUP,
    unicast: false,
  },
  {
    file: 'mc-owner-pass8.hex',
    fields: { vrid: 54, priority: 255, authType: 1, authPass: 'secret12', adverIntSec: 1, vips: ['10.231.0.120'] },
    dstIp: VRRP_MULTICAST_GROUP,
    unicast: false,
  },
  {
    file: 'uc-noauth.hex',
    fields: { vrid: 55, priority: 1, authType: 0, adverIntSec: 1, vips: ['10.231.0.130', '10.231.0.131'] },
    dstIp: '10.231.0.2',
    unicast: true,
  },
];

for (const s of scenarios) {
  t.test(`keepalived capture ${s.file}`, async (t) => {
    const frames = readFrames(s.file);
    t.ok(frames.length >= 3, 'has several adverts and the final priority-0 one');
    frames.forEach((frame, i) => {
      const last = i === frames.length - 1;
      const ip = frame.subarray(ETHERNET_HEADER_LEN);
      const id = ip.readUInt16BE(4);
      t.equal(id, i + 1, 'keepalived numbers IP ids per instance from 1');
      t.equal(frame.subarray(6, 12).toString('hex'), NODE_A_MAC, 'Ethernet source is the interface MAC');
      t.equal(frame.readUInt16BE(12), 0x0800, 'IPv4 ethertype');
      if (!s.unicast) t.equal(frame.subarray(0, 6).toString('hex'), '01005e000012', 'multicast MAC for 224.0.0.18');

      // RFC 3768 3: "priority zero ... indicates the current Master has stopped participating"
      const fields = { ...s.fields, priority: last ? 0 : s.fields.priority };
      const built = buildIpv4Packet({ srcIp: NODE_A_IP, dstIp: s.dstIp, ttl: 255, id, payload: encodeAdvert(fields) });
      t.equal(built.toString('hex'), ip.toString('hex'), `frame ${i + 1} (priority ${fields.priority}) reproduced exactly`);

      t.equal(peekVrid(ip), s.fields.vrid, 'peekVrid');
      const exp: AdvertExpectations = {
        adverIntSec: s.fields.adverIntSec,
        authType: s.fields.authType,
        vips: s.fields.vips,
        checkVips: true,
        unicast: s.unicast,
        ...(s.fields.authPass !== undefined ? { authPass: s.fields.authPass } : {}),
        ...(s.unicast ? { checkUnicastSrc: true, unicastPeers: [{ ip: NODE_A_IP, minTtl: 0, maxTtl: 255 }] } : {}),
      };
      const r = decodeAdvert(ip, exp);
      if (!r.ok) {
        t.fail(`frame ${i + 1} rejected: ${r.reason}: ${r.detail}`);
        return;
      }
      t.match(
        r.advert,
        {
          version: 2,
          type: 1,
          vrid: s.fields.vrid,
          priority: fields.priority,
          authType: s.fields.authType,
          adverIntSec: s.fields.adverIntSec,
          vips: [...s.fields.vips],
        },
        'decoded fields',
      );
      t.same([...r.advert.authData], [...passwordToWire(s.fields.authPass, s.fields.authType)], 'auth data');
      t.same(r.envelope, { srcIp: NODE_A_IP, dstIp: s.dstIp, ttl: 255 }, 'envelope');
    });
  });
}

t.test('keepalived VRRPv3 capture is a version drop for a v2 instance', async (t) => {
  const frames = readFrames('mc-v3.hex');
  t.ok(frames.length > 0);
  for (const frame of frames) {
    const ip = frame.subarray(ETHERNET_HEADER_LEN);
    t.equal(peekVrid(ip), 56);
    const r = decodeAdvert(ip, { adverIntSec: 1, authType: 0, vips: ['10.231.0.140'], checkVips: true, unicast: false });
    t.match(r, { ok: false, reason: 'version', detail: 'wrong version. Received 3 and expect 2' });
  }
});

t.test('docs/keepalived-behaviour.md 3.2 observed advert (VRID 51, priority 100, two VIPs, PASS "secret12")', async (t) => {
  const vrrp = encodeAdvert({
    vrid: 51,
    priority: 100,
    authType: 1,
    authPass: 'secret12',
    adverIntSec: 1,
    vips: ['10.0.0.100', '10.0.0.101'],
  });
  t.equal(vrrp.toString('hex'), '2133640201 01f7810a0000640a000065 7365637265743132'.replace(/ /g, ''));
  const ip = buildIpv4Packet({ srcIp: '10.0.0.2', dstIp: '224.0.0.18', ttl: 255, id: 1, payload: vrrp });
  t.equal(
    ip.subarray(0, 10).toString('hex'),
    '45c0002c00010000ff70',
    'IPv4 header: TOS 0xc0, length 44, id 1, DF clear, TTL 255, proto 112',
  );
  t.equal(ip.subarray(12, 20).toString('hex'), '0a000002e0000012');
  t.ok(checksumIsValid(ip, 0, 20), 'IPv4 header checksum verifies');
});

t.test('RFC 1071 3 numerical example', async (t) => {
  const data = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  t.equal(onesComplementSum(data), 0xddf2, "one's complement sum ddf2");
  t.equal(internetChecksum(data), 0x220d, 'checksum 220d');
  t.equal(onesComplementSum(Uint8Array.from([0x00, 0x01, 0xf2])), 0xf201, 'odd length: last byte padded with zero');
});

t.test('checksum property: a filled-in checksum makes the range sum to 0xffff', async (t) => {
  let seed = 0x12345678;
  const next = (): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  let bad = 0;
  for (let n = 0; n < 2000; n++) {
    const len = 2 + 2 * Math.floor(next() * 40);
    const buf = new Uint8Array(len);
    for (let i = 0; i < len; i++) buf[i] = Math.floor(next() * 256);
    const at = 2 * Math.floor(next() * (len / 2));
    buf[at] = 0;
    buf[at + 1] = 0;
    const c = internetChecksum(buf);
    buf[at] = c >> 8;
    buf[at + 1] = c & 0xff;
    if (!checksumIsValid(buf) || internetChecksum(buf) !== 0) bad++;
  }
  t.equal(bad, 0, '2000 random buffers verify (sum 0xffff, recomputed checksum 0)');
});
