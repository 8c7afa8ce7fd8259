// Receive-check oracle for VRRPv3: crafted frames sent to the real keepalived 2.2.7 by
// test/fixtures/v3/rx-oracle.py, with the lines it logged (rx-checks.txt), replayed through the v3
// decoders with the same instance config (rx-oracle.conf). Where keepalived dropped the packet we
// must drop it with the same wording; where it acted on it, we must accept it.
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  decodeAdvertV3Ipv4,
  decodeAdvertV3Ipv6,
  type AdvertV3Expectations,
  type DecodeV3Result,
} from '../../src/protocol/advert-v3-checks.js';
import { formatIpv6 } from '../../src/protocol/ipv6-address.js';

interface Case {
  name: string;
  lines: string[];
  frame: Buffer;
}

function readCases(): Case[] {
  const text = readFileSync(new URL('../fixtures/v3/rx-checks.txt', import.meta.url), 'utf8');
  const cases: Case[] = [];
  let cur: Partial<Case> & { lines: string[] } = { lines: [] };
  for (const line of text.split('\n')) {
    if (line.startsWith('# case: ')) cur = { name: line.slice(8), lines: [] };
    else if (line.startsWith('# keepalived: ') || line.startsWith('# then: ')) cur.lines.push(line.slice(line.indexOf(': ') + 2));
    else if (line !== '' && !line.startsWith('#') && cur.name !== undefined)
      cases.push({ name: cur.name, lines: cur.lines, frame: Buffer.from(line, 'hex') });
  }
  return cases;
}

// rx-oracle.conf, as the decoders take it
const VI_4: AdvertV3Expectations = { family: 'ipv4', vips: ['10.233.0.100', '10.233.0.101'], checkVips: true, unicast: false };
const VI_6: AdvertV3Expectations = { family: 'ipv6', vips: ['fd00:233::100', 'fd00:233::101'], checkVips: true, unicast: false };
const VI_U: AdvertV3Expectations = {
  family: 'ipv4',
  vips: ['10.233.0.150'],
  checkVips: true,
  unicast: true,
  checkUnicastSrc: true,
  unicastPeers: [{ ip: '10.233.0.2', minTtl: 0, maxTtl: 255 }],
};

/** Lines keepalived logs when it acts on an advert it accepted. */
const ACCEPTED =
  /^(\(accepted: nothing logged\)|\(VI_.\) (Master received|Received advert|advertisement interval updated|Setting unicast VRRPv3 checksum))/;
/** keepalived never saw these: the kernel dropped them (IPV6_CHECKSUM; the multicast socket takes no unicast). */
const KERNEL_DROPS: Record<string, string> = {
  'v6: bad checksum': 'checksum',
  'v6: unicast to fe80::b:1 for a multicast instance': 'expected-multicast',
};

const cases = readCases();

t.test('the fixture holds the crafted cases', async (t) => {
  t.ok(cases.length >= 25, `${cases.length} cases`);
});

t.test('each crafted frame gets keepalived 2.2.7 verdict and wording', async (t) => {
  let uc: AdvertV3Expectations = VI_U;
  for (const c of cases) {
    const eth = c.frame;
    let r: DecodeV3Result;
    if (eth.readUInt16BE(12) === 0x86dd) {
      const ip6 = eth.subarray(14);
      const rx = { payload: ip6.subarray(40), srcIp: formatIpv6(ip6, 8), dstIp: formatIpv6(ip6, 24), hopLimit: ip6[7] ?? 0 };
      r = decodeAdvertV3Ipv6(rx, VI_6);
    } else {
      const ip = eth.subarray(14);
      const vrid = ip[21];
      r = decodeAdvertV3Ipv4(ip, vrid === 83 ? uc : VI_4);
      // keepalived switched VI_U to the old unicast checksum: from then on it verifies that form
      if (vrid === 83 && r.oldUnicastChecksum === true) uc = { ...VI_U, checksumMode: 'old-unicast' };
    }
    const first = c.lines[0] ?? '';
    const kernel = KERNEL_DROPS[c.name];
    if (kernel !== undefined) t.match(r, { ok: false, reason: kernel }, `${c.name}: dropped before keepalived (${kernel})`);
    else if (ACCEPTED.test(first)) t.ok(r.ok, `${c.name}: accepted (${first})${r.ok ? '' : ` but dropped: ${r.reason}: ${r.detail}`}`);
    else t.equal(r.ok ? '(accepted)' : `(${first.slice(1, 5)}) ${r.detail}`, first, c.name);
  }
});

t.test('the interval lines keepalived logged are what a backup learns (no v3 interval check)', async (t) => {
  const learned = cases.flatMap((c) => c.lines.filter((l) => l.includes('advertisement interval updated')));
  t.ok(learned.length >= 1, learned.join(' / '));
});
