/**
 * Memory over time on fake ports (issue 10): the shipped Daemon through thousands of cycles of
 * what a long-lived node sees (reloads that rename and re-create instances, link flaps, adverts
 * from ever-new sources, unknown VRIDs, hooks, status reads, fake hours passing). The live JS heap
 * after a full collection must not grow with the number of cycles: a retained set that grows by a
 * few hundred bytes a cycle shows up as hundreds of KiB here. The namespaced soak (npm run soak)
 * covers the real sockets and processes; this covers the runtime's own tables, fast and without root.
 */
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { buildIpv4Packet } from '../../src/protocol/ipv4-header.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { silentLog } from '../../src/log.js';
import { configFromText } from '../support/config-host.js';
import { FakeIo, advanceDaemon, withTestNotifier } from './fake-io.js';
import { rssFit } from '../../bench/rss-fit.js';

/** Trend allowed, bytes of live heap per cycle: below one leaked table entry a cycle. */
const MAX_BYTES_PER_CYCLE = 150;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Two instances; the second one's name changes with `gen`, so reloads delete and create it. */
const conf = (gen: number): string => `global_defs {
  log_unknown_vrids
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  advert_int 1
  track_interface {
    eth1
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
  notify /bin/notify.sh
}
vrrp_instance GEN_${gen % 7} {
  interface eth0
  virtual_router_id 52
  priority ${100 + (gen % 3)}
  advert_int 1
  virtual_ipaddress {
    10.0.0.${150 + (gen % 5)}/24
  }
  notify_master /bin/master.sh
}
`;

function advert(src: string, vrid: number, priority: number, vip: string): Buffer {
  const payload = encodeAdvert({ vrid, priority, authType: 0, adverIntSec: 1, vips: [vip] });
  return buildIpv4Packet({ srcIp: src, dstIp: '224.0.0.18', ttl: 255, id: 1, payload });
}

/** Live JS heap: full collections until the figure settles (sweeping finishes between turns). */
async function liveHeap(): Promise<number> {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
    const used = v8.getHeapStatistics().used_heap_size;
    if (Math.abs(used - last) < 4096) return used;
    last = used;
  }
  return last;
}

t.test('thousands of reloads, flaps, adverts, hooks and status reads: the live heap does not grow with them', async (t) => {
  const io = new FakeIo();
  io.addLink('eth1', 3, '10.1.0.1');
  const d = new Daemon(withTestNotifier({ io, log: silentLog }));
  const configs = Array.from({ length: 7 }, (_, i) => configFromText(conf(i)));
  const r = await d.start(configs[0]!);
  if (!r.ok) throw new Error(r.error.message);
  let gen = 0;
  let src = 0;
  const cycle = async (): Promise<void> => {
    gen++;
    // Adverts: the master, then a burst of one-shot sources and unknown VRIDs.
    io.receive('eth0', advert('10.0.0.2', 51, 150, '10.0.0.100'));
    for (let k = 0; k < 20; k++) {
      src++;
      io.receive('eth0', advert(`10.${(src >> 16) & 255}.${(src >> 8) & 255}.${src & 255}`, 52, 50, `10.0.0.${150 + (gen % 5)}`));
      if (k % 4 === 0) io.receive('eth0', advert('10.0.0.9', 100 + (src % 150), 50, '10.0.0.1'));
    }
    if (gen % 4 === 0) io.setLink('eth1', gen % 8 !== 0); // tracked link flaps: hooks run
    if (gen % 10 === 0) await d.reload(configs[gen % 7]!);
    await advanceDaemon(d, io, 1000);
    d.status();
    io.runs.length = 0; // the fake ports' own records, not the daemon's
    io.sent.length = 0;
    io.trace.length = 0;
    io.netOps.length = 0;
    io.garps.length = 0;
    io.frameBytes.length = 0;
    io.sent6.length = 0;
  };
  for (let i = 0; i < 1500; i++) await cycle(); // warm-up: JIT, first instances of every table
  // The live heap every STEP cycles, and its least-squares trend: V8's own tables (a Map's deleted
  // entries until it rehashes, JIT code) make single readings swing by hundreds of KiB either way.
  const STEP = 500;
  const samples: { ms: number; mib: number }[] = [];
  for (let i = 0; i <= Number(process.env.CYCLES ?? 4000); i++) {
    if (i % STEP === 0) samples.push({ ms: i * 60_000, mib: await liveHeap() }); // x in "minutes" = cycles
    await cycle();
  }
  const fit = rssFit(samples);
  const perCycle = fit.slopeMiBPerMin;
  t.comment(
    `live heap ${samples.map((x) => (x.mib / 1048576).toFixed(2)).join(' ')} MiB every ${STEP} cycles: ${perCycle.toFixed(1)} ± ${fit.slopeStdErr.toFixed(1)} B/cycle (${gen / 10} reloads, ${src} advert sources)`,
  );
  t.ok(
    perCycle < MAX_BYTES_PER_CYCLE,
    `no growth with the cycles: ${perCycle.toFixed(1)} bytes per cycle (< ${MAX_BYTES_PER_CYCLE}; the old peer table kept several hundred)`,
  );
  t.ok(d.knownLinks().length <= 3);
  for (const i of d.instances) t.ok([...i.peers].length <= 32, `${i.name}: peer table bounded`);
  await d.stop(0);
});
