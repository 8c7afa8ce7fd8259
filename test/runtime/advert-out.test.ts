/**
 * The runtime's outgoing adverts, byte for byte against keepalived 2.2.7's captures (issue 12
 * wire identity): the instances of the capture's own config (test/fixtures/v3/keepalived.conf) go
 * through the daemon's path (config -> instanceSpecs -> advertCopies) and must give the captured
 * IPv4 packets exactly (IP id and priority taken from each captured packet). Covers VRRPv3
 * multicast at 1 s and 0.1 s, unicast, `old_unicast_checksum`, the 40.95 s maximum, and the
 * priority-0 advert; for IPv6 the VRRP message (the socket adds the header) at 1 s, 0.1 s and unicast. Pure.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { advertCopies, advertMessages6 } from '../../src/runtime/advert-out.js';
import { formatIpv6 } from '../../src/protocol/ipv6-address.js';
import { instanceSpecs } from '../../src/runtime/params.js';
import { AdvertIn } from '../../src/runtime/advert-in.js';
import { configFromText } from '../support/config-host.js';

const FIXTURES = new URL('../fixtures/v3/', import.meta.url);

function frames(file: string): Buffer[] {
  return readFileSync(new URL(file, FIXTURES), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Buffer.from(l, 'hex'));
}

/** The capture's config, on the interface the test host has (eth0). */
const CONF = readFileSync(new URL('keepalived.conf', FIXTURES), 'utf8').replaceAll('vr-v3p-a0', 'eth0');
const specs = instanceSpecs(configFromText(CONF));

const CASES: [string, string][] = [
  ['V4_MC_1S', 'v4-mc-1s.hex'],
  ['V4_MC_FAST', 'v4-mc-fast.hex'],
  ['V4_UC', 'v4-uc.hex'],
  ['V4_UC_OLD', 'v4-uc-old.hex'],
  ['V4_OWNER_MAX', 'v4-owner-max.hex'],
];

for (const [name, file] of CASES) {
  t.test(`${name}: the runtime's advert equals keepalived's (${file})`, async (t) => {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no instance ${name}`);
    t.equal(spec.version, 3, 'vrrp_version 3 applies');
    const checksumMode = new AdvertIn().checksumMode(spec);
    const captured = frames(file).map((f) => f.subarray(14));
    t.ok(captured.length >= 2, `${captured.length} captured adverts`);
    for (const ip of captured) {
      const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
      const copies = advertCopies(spec, spec.params, ip[22]!, src, ip.readUInt16BE(4), checksumMode);
      t.equal(copies.length, 1, 'one copy (one peer or the group)');
      t.equal(Buffer.from(copies[0]!.packet).toString('hex'), ip.toString('hex'), `priority ${ip[22]}, ip id ${ip.readUInt16BE(4)}`);
    }
  });
}

t.test('old_unicast_checksum never: the pseudo-header form, whatever a peer sends', async (t) => {
  const text = CONF.replace(/old_unicast_checksum\n/, 'old_unicast_checksum never\n');
  const spec = instanceSpecs(configFromText(text)).find((s) => s.name === 'V4_UC_OLD')!;
  t.equal(spec.oldUnicastChecksum, 'never');
  const inbound = new AdvertIn();
  t.equal(inbound.checksumMode(spec), 'pseudo-header');
  // keepalived's old-form advert (from the capture) is refused, and the instance does not switch
  const old = frames('v4-uc-old.hex')[0]!.subarray(14);
  let switched = 0;
  const r = inbound.decode(spec, spec.params, old, true, () => switched++);
  t.match(r, { ok: false, reason: 'checksum' });
  t.equal(switched, 0);
  t.equal(inbound.checksumMode(spec), 'pseudo-header');
});

t.test('a unicast instance switches to the old checksum when a peer uses it, once, as keepalived', async (t) => {
  const text = CONF.replace(/old_unicast_checksum\n/, '');
  // the receiver: V4_UC_OLD's config on the peer (10.232.0.2), without old_unicast_checksum
  const spec = instanceSpecs(configFromText(text)).find((s) => s.name === 'V4_UC_OLD')!;
  const peerSpec = { ...spec, peers: [{ address: '10.232.0.1', minTtl: 0, maxTtl: 255 }] };
  const inbound = new AdvertIn();
  t.equal(inbound.checksumMode(peerSpec), 'pseudo-header');
  let switched = 0;
  for (const f of frames('v4-uc-old.hex').slice(0, 3)) {
    const r = inbound.decode(peerSpec, peerSpec.params, f.subarray(14), true, () => switched++);
    t.ok(r.ok, 'accepted');
  }
  t.equal(switched, 1, 'switched (and logged) once');
  t.equal(inbound.checksumMode(peerSpec), 'old-unicast', 'and sends the old form from then on');
  // the RFC form is now refused, as keepalived does ("Invalid VRRPv3 checksum")
  const rfc = frames('v4-uc.hex')[0]!.subarray(14);
  const uc = instanceSpecs(configFromText(text)).find((s) => s.name === 'V4_UC')!;
  const r = inbound.decode(
    { ...peerSpec, params: { ...peerSpec.params, vips: uc.params.vips, vrid: 63 } },
    { ...peerSpec.params, vips: uc.params.vips, vrid: 63 },
    rfc,
    false,
    () => switched++,
  );
  t.match(r, { ok: false, reason: 'checksum' });
});

const V6_CASES: [string, string][] = [
  ['V6_MC_1S', 'v6-mc-1s.hex'],
  ['V6_MC_FAST', 'v6-mc-fast.hex'],
  ['V6_UC', 'v6-uc.hex'],
];

for (const [name, file] of V6_CASES) {
  t.test(`${name}: the runtime's IPv6 advert equals keepalived's VRRP message (${file})`, async (t) => {
    const spec = specs.find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no instance ${name}`);
    t.equal(spec.family, 6);
    const captured = frames(file);
    t.ok(captured.length >= 2, `${captured.length} captured adverts`);
    for (const f of captured) {
      const src = formatIpv6(f, 22);
      const dst = formatIpv6(f, 38);
      const msg = f.subarray(54);
      const out = advertMessages6(spec, spec.params, msg[2]!, src);
      t.same(
        out.map((m) => m.dstIp),
        [dst],
        'to the group or the peer',
      );
      t.equal(Buffer.from(out[0]!.message).toString('hex'), msg.toString('hex'), `priority ${msg[2]}`);
    }
  });
}
