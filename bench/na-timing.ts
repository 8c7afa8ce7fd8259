/**
 * IPv6 take-over: VIP -> first unsolicited neighbour advertisement (issue 12: at most 5 ms), vrrpd
 * and keepalived 2.2.7 as the backup in the same lab (root only). Lab `vq-na-` (10.239.83.0/24,
 * fd00:10:239:83::/64, IPv6 on): b (priority 100, the implementation measured) backs up a
 * keepalived master a (priority 150), IPv6 instance, VRRPv3 advert_int 0.1, VIP
 * fd00:10:239:83::100/64. Per round: a starts and takes the VIP, then is stopped (SIGTERM,
 * priority 0); b takes over. Measured in b: the VIP's netlink event (`ip -6 -ts monitor address`,
 * stamped by ip on receipt, ms resolution) and b's first outgoing NA (`tcpdump -tt -Q out`, kernel
 * timestamp). Usage: node build/bench/na-timing.js [--rounds 5]
 */
import { BenchLab } from '../test/support/ns-lab.js';
import {
  keepalivedConf,
  keepalivedUnavailable,
  median,
  sleep,
  startNode,
  vrrpdUnavailable,
  type Impl,
} from '../test/support/vrrp-harness.js';
import { runIfMain } from './entry.js';

const VIP = 'fd00:10:239:83::100';

/** VIP add (ip -ts monitor) -> first outgoing NA (tcpdump -tt), ms; null when either is missing. */
export function vipToNaMs(monitor: string, capture: string): number | null {
  const m = /\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\d*\]\s+\d+: eth0\s+inet6 fd00:10:239:83::100\//.exec(monitor);
  const n = /^(\d+\.\d+) IP6 .*neighbor advertisement/m.exec(capture);
  if (!m || !n) return null;
  return Number(n[1]) * 1000 - Date.parse(`${m[1]}Z`);
}

async function rounds(impl: Impl, count: number): Promise<number[]> {
  const lab = await BenchLab.start('vq-na-', '10.239.83', ['a', 'b'], { ipv6: true });
  const out: number[] = [];
  try {
    const conf = (n: string, priority: number): string =>
      keepalivedConf(n, { state: 'BACKUP', vrid: 83, priority, advertInt: 0.1, vips: [`${VIP}/64`] });
    const b = startNode(lab, { impl, host: 'b', conf: conf('b', 100) });
    await b.proc.waitFor(/BACKUP STATE \(init\)|Entering MASTER/, 15_000);
    for (let i = 0; i < count; i++) {
      const a = startNode(lab, { impl: 'keepalived', host: 'a', conf: conf('a', 150) });
      await a.proc.waitFor(/Entering MASTER STATE/, 10_000);
      await sleep(1500);
      const mon = lab.spawn('b', ['ip', '-6', '-ts', 'monitor', 'address']);
      const cap = lab.spawn('b', ['tcpdump', '-i', 'eth0', '-nn', '-tt', '-l', '-Q', 'out', 'icmp6 and ip6[40] == 136']);
      await sleep(800);
      await a.stop(3000);
      await sleep(1200);
      const ms = vipToNaMs(mon.stdout, cap.stdout);
      if (ms === null) throw new Error(`${impl} round ${i + 1}: no VIP event or no NA seen`);
      out.push(ms);
      await mon.kill();
      await cap.kill();
      await sleep(1000);
    }
    await b.stop(3000);
  } finally {
    await lab.destroy();
  }
  return out;
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--rounds');
  const count = i >= 0 ? Math.max(1, Number(argv[i + 1])) : 5;
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const why = vrrpdUnavailable() || keepalivedUnavailable();
  if (why) throw new Error(why);
  const res: Record<string, number[]> = {};
  for (const impl of ['keepalived', 'vrrpd'] as const) res[impl] = await rounds(impl, count);
  const row = (impl: string): string => {
    const v = res[impl]!;
    return `| ${impl} | ${v.map((x) => x.toFixed(2)).join(', ')} | ${median(v).toFixed(2)} | ${Math.max(...v).toFixed(2)} |`;
  };
  process.stdout.write(
    `IPv6 take-over after the master's priority 0 (advert_int 0.1): VIP (ip monitor) -> first NA (tcpdump), ms, ${count} rounds\n\n` +
      `| backup | rounds | median | max |\n|---|---|---:|---:|\n${row('keepalived')}\n${row('vrrpd')}\n\n`,
  );
  const ok = Math.max(...res['vrrpd']!) <= 5;
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}: vrrpd VIP -> first NA <= 5 ms in every round\n`);
  return ok ? 0 : 1;
}

runIfMain(import.meta.url, main, { failCode: 2 });
