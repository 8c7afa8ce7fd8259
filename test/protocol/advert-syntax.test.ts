// The codec's decode (parseAdvert) applies only the syntax checks; decodeAdvert (advert-checks.ts)
// interleaves them with the semantic checks in keepalived's order. These tests pin the split: what
// the packet says about itself is judged the same way by both, and nothing the instance expects
// leaks into the codec.
import t from 'tap';
import { encodeAdvert, parseAdvert } from '../../src/protocol/advert.js';
import { decodeAdvert, type AdvertExpectations } from '../../src/protocol/advert-checks.js';
import { DROP_REASONS } from '../../src/protocol/drop-reasons.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';

const VIPS = ['10.0.0.100', '10.0.0.101'];
/** The reasons only the codec gives (the packet alone decides them). */
const SYNTAX_REASONS = new Set([
  'ip-header',
  'truncated',
  'too-short',
  'too-long',
  'version',
  'auth-type-invalid',
  'type',
  'ip-length',
  'checksum',
]);
const EXP: AdvertExpectations = { adverIntSec: 1, authType: 1, authPass: 'secret', vips: VIPS, checkVips: true, unicast: false };
const packet = (ttl = 255, dstIp = '224.0.0.18'): Buffer =>
  buildIpv4Packet({
    srcIp: '10.0.0.2',
    dstIp,
    ttl,
    id: 1,
    payload: encodeAdvert({ vrid: 51, priority: 100, authType: 1, authPass: 'secret', adverIntSec: 1, vips: VIPS }),
  });

t.test('a good advert decodes the same with and without the receive checks', async (t) => {
  const p = packet();
  const syntax = parseAdvert(p);
  const full = decodeAdvert(p, EXP);
  t.ok(syntax.ok && full.ok);
  t.same(syntax, full);
});

t.test("semantic mismatches are not the codec's business", async (t) => {
  const cases: [string, Buffer, AdvertExpectations, string][] = [
    ['TTL 64 on a multicast instance', packet(64), EXP, 'ttl'],
    ['another password', packet(), { ...EXP, authPass: 'other' }, 'auth-password'],
    ['another interval', packet(), { ...EXP, adverIntSec: 2 }, 'interval-mismatch'],
    ['a VIP count we do not expect', packet(), { ...EXP, vips: ['10.0.0.100'] }, 'vip-count'],
    ['unicast destination for a multicast instance', packet(255, '10.0.0.1'), EXP, 'expected-multicast'],
    ['a VIP missing', packet(), { ...EXP, vips: ['10.0.0.100', '10.0.0.102'] }, 'vip-missing'],
  ];
  for (const [what, p, exp, reason] of cases) {
    const full = decodeAdvert(p, exp);
    t.equal(full.ok ? 'accepted' : full.reason, reason, `${what}: dropped by the receive checks`);
    t.ok(parseAdvert(p).ok, `${what}: well formed for the codec`);
  }
});

t.test('syntax faults are reported by the codec alone', async (t) => {
  const badSum = packet();
  badSum[20 + 6] = (badSum[20 + 6] ?? 0) ^ 0xff;
  const v3 = packet();
  v3[20] = 0x31;
  const r1 = parseAdvert(badSum);
  const r2 = parseAdvert(v3);
  t.same(r1.ok ? 'accepted' : [r1.reason, r1.detail], ['checksum', 'Invalid VRRPv2 checksum']);
  t.equal(r2.ok ? 'accepted' : r2.reason, 'too-long', 'a version 3 header is sized without auth data: 8 bytes too many');
  const short = parseAdvert(packet().subarray(0, 10));
  t.equal(short.ok ? 'accepted' : short.reason, 'ip-header');
});

t.test('on mutated packets the full checks never accept what the codec refuses, nor drop later than it', async (t) => {
  let seed = 0x5eed;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const exps: AdvertExpectations[] = [EXP, { ...EXP, checkVips: false }, { ...EXP, authType: 0, unicast: true }];
  let syntaxDrops = 0;
  let bad = 0;
  for (let i = 0; i < 20_000; i++) {
    const p = Buffer.from(packet());
    for (let k = 0, n = 1 + rnd(3); k < n; k++) p[rnd(p.length)] = rnd(256);
    const syntax = parseAdvert(p);
    const full = decodeAdvert(p, exps[rnd(exps.length)]!);
    if (full.ok) {
      if (!syntax.ok || JSON.stringify(syntax) !== JSON.stringify(full)) bad++;
    } else if (!syntax.ok) {
      syntaxDrops++;
      if (DROP_REASONS.indexOf(full.reason) > DROP_REASONS.indexOf(syntax.reason)) bad++;
      // a syntax reason first in the full order is the codec's first reason too (same order)
      if (SYNTAX_REASONS.has(full.reason) && full.reason !== syntax.reason) bad++;
    } else if (SYNTAX_REASONS.has(full.reason)) bad++;
  }
  t.equal(bad, 0);
  t.ok(syntaxDrops > 1000, `syntax drops were exercised (${syntaxDrops})`);
});
