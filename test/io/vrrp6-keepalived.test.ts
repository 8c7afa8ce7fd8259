/**
 * The IPv6 VRRP sockets against a running keepalived 2.2.7 (prefix vr-v6io-ka-, subnet 10.232.65.0/24):
 * our receive side gets keepalived's adverts with the hop limit, destination and source the receive
 * checks need, and keepalived accepts the adverts our send side makes (kernel checksum, hop limit 255,
 * link-local source): a higher priority from us sends it to BACKUP with no packet error logged.
 * The adverts are built here by hand; the v3 codec and the runtime are not involved.
 */
import t from 'tap';
import { Vrrp6Transport } from '../../src/io/vrrp6-transport.js';
import type { ReceivedPacket6 } from '../../src/runtime/ports/packets.js';
import { onesComplementSum } from '../../src/protocol/checksum.js';
import { parseIpv6 } from '../../src/protocol/ipv6-address.js';
import { Lab, netnsSkip, waitForEvent } from '../support/netns.js';
import { enableIpv6 } from '../support/lab-ipv6.js';
import { countMatches, keepalivedUnavailable, packetErrors, startNode, waitForNth } from '../support/vrrp-harness.js';

const VRID = 71;
const VIP = 'fd00:71::100';
const CONF = `global_defs {
  router_id VR_V6IO_KA
}
vrrp_instance V6 {
  interface eth0
  state BACKUP
  virtual_router_id ${VRID}
  priority 100
  advert_int 1
  virtual_ipaddress {
    ${VIP}/64
  }
}
`;

/** A VRRPv3 advert (RFC 5798 5.2), 1 s interval, checksum left zero for the kernel (as keepalived sends it). */
function v3Advert(priority: number): Buffer {
  const m = Buffer.alloc(24);
  m[0] = 0x31;
  m[1] = VRID;
  m[2] = priority;
  m[3] = 1;
  m.writeUInt16BE(100, 4);
  parseIpv6(VIP)!.copy(m, 8);
  return m;
}

t.test('IPv6 adverts both ways with keepalived', { skip: netnsSkip() || keepalivedUnavailable() }, async (t) => {
  const lab = await Lab.create(t, { prefix: 'vr-v6io-ka-', subnet: '10.232.65', hosts: ['a', 'b'] });
  const llA = await enableIpv6(lab, 'a');
  const llB = await enableIpv6(lab, 'b');
  const got: ReceivedPacket6[] = [];
  const waiters = new Set<() => void>();
  const tr = new Vrrp6Transport({
    onPacket: (p) => {
      got.push(p);
      for (const w of [...waiters]) w();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  t.teardown(() => {
    clearInterval(timer);
    tr.closeAll();
  });
  const ch = lab.inNetns('b', () => tr.open({ ifname: 'eth0' }));
  if (!ch.ok) {
    t.fail(`channel did not open: ${JSON.stringify(ch)}`);
    return;
  }
  const ka = startNode(lab, { impl: 'keepalived', host: 'a', conf: CONF });
  t.teardown(() => ka.stop());

  await t.test("keepalived's adverts reach us with what the receive checks read", async (t) => {
    await waitForNth(ka, /\(V6\) Entering MASTER STATE/, 0, 10000);
    const rx = await waitForEvent<ReceivedPacket6>(
      (deliver) => {
        const w = (): void => {
          const hit = got.find((p) => p.packet[1] === VRID && p.packet[2] === 100);
          if (hit) deliver(hit);
        };
        waiters.add(w);
        w();
        return () => waiters.delete(w);
      },
      3000,
      "keepalived's advert",
    );
    t.match(rx, { src: llA, dst: 'ff02::12', hopLimit: 255, truncated: false, ifname: 'eth0' });
    t.equal(rx.packet.length, 24, 'v3 header and one IPv6 address');
    t.equal(rx.packet[0], 0x31, 'VRRPv3 advertisement');
    const pseudo = Buffer.alloc(40);
    parseIpv6(llA)!.copy(pseudo, 0);
    parseIpv6('ff02::12')!.copy(pseudo, 16);
    pseudo.writeUInt32BE(rx.packet.length, 32);
    pseudo[39] = 112;
    t.equal(onesComplementSum(rx.packet, 0, rx.packet.length, onesComplementSum(pseudo)), 0xffff, 'checksum valid');
  });

  await t.test('keepalived accepts ours: a higher priority sends it to BACKUP, nothing logged as a bad packet', async (t) => {
    const before = countMatches(ka.log, /\(V6\) Entering BACKUP STATE/);
    const send = (): void => {
      const r = tr.send(ch.value.key, v3Advert(200), { src: llB, dst: 'ff02::12' });
      if (!r.ok) t.fail(`send failed: ${JSON.stringify(r.error)}`);
    };
    send();
    timer = setInterval(send, 1000);
    await waitForNth(ka, /\(V6\) Entering BACKUP STATE/, before, 5000);
    t.match(ka.log, new RegExp(`\\(V6\\) Master received advert from ${llB.replace(/\./g, '\\.')} with higher priority 200, ours 100`));
    await new Promise((r) => setTimeout(r, 2500));
    t.same(packetErrors(ka.log), [], 'no receive-check complaint from keepalived');
    t.equal(countMatches(ka.log, /\(V6\) Entering MASTER STATE/), 1, 'and it stays BACKUP while we advertise');
  });
});
