/**
 * Config front-end benchmark (not a test): generate a keepalived.conf with 1,000 vrrp_instances
 * (unicast and multicast mix, VIPs, track scripts, notify hooks), parse it N times with loadConfig()
 * and, when keepalived is installed and we are root, time `keepalived -t -f FILE` on the same file
 * inside a throw-away network namespace `vbench-cfg-<pid>` holding veth eth0..eth3 (so its interface
 * checks pass like ours). Prints a small table.
 *
 *   npm run bench:config -- [--instances 1000] [--runs 10] [--keepalived-runs 5]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeConfigHost } from '../src/host/config-host.js';
import type { InterfaceFacts } from '../src/config/host.js';
import { loadConfig } from '../src/config/load.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  return Number.isFinite(v) && v > 0 ? v : def;
}

export function generateConfig(instances: number): string {
  const out: string[] = [
    'global_defs {',
    '    router_id bench',
    '    enable_script_security',
    '    script_user root',
    '    vrrp_garp_master_refresh 60',
    '}',
  ];
  for (let s = 0; s < 10; s++)
    out.push(
      `vrrp_script chk_${s} {`,
      '    script "/usr/bin/true"',
      '    interval 2',
      `    weight ${s % 2 ? -10 : 5}`,
      '    fall 2',
      '    rise 2',
      '}',
    );
  for (let i = 0; i < instances; i++) {
    const ifn = Math.floor(i / 255) % 4;
    const vrid = (i % 255) + 1;
    const unicast = i % 2 === 1;
    out.push(
      `vrrp_instance VI_${i} {`,
      `    state ${i % 3 === 0 ? 'MASTER' : 'BACKUP'}`,
      `    interface eth${ifn}`,
      `    virtual_router_id ${vrid}`,
      `    priority ${100 + (i % 100)}`,
      '    advert_int 1',
    );
    if (i % 4 === 2 && i % 3 !== 0) out.push('    nopreempt');
    out.push('    authentication {', '        auth_type PASS', `        auth_pass p${i % 1000}`, '    }');
    if (unicast)
      out.push(
        `    unicast_src_ip 192.168.20${ifn}.10`,
        '    unicast_peer {',
        `        192.168.20${ifn}.${11 + (i % 200)}`,
        `        192.168.20${ifn}.${12 + (i % 200)} min_ttl 250`,
        '    }',
      );
    out.push(
      '    virtual_ipaddress {',
      `        10.${ifn}.${vrid}.1/24 dev eth${ifn} label eth${ifn}:${i % 100}`,
      `        10.${100 + ifn}.${vrid}.1/24 brd +`,
      '    }',
      '    track_interface {',
      `        eth${(ifn + 1) % 4} weight -20`,
      '    }',
      '    track_script {',
      `        chk_${i % 10}`,
      '    }',
      `    notify_master "/usr/bin/logger -t vrrp 'VI_${i} master'"`,
      '    notify_backup "/usr/bin/logger -t vrrp backup"',
      '    notify /usr/bin/true',
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
};

const IFS: ReadonlyMap<string, InterfaceFacts> = new Map([
  ['lo', { name: 'lo', loopback: true, multicast: false }],
  ...[0, 1, 2, 3].map((n): [string, InterfaceFacts] => [`eth${n}`, { name: `eth${n}`, loopback: false, multicast: true }]),
]);

function benchVrrpd(file: string, runs: number): { times: number[]; exit: number; instances: number } {
  const host = { ...nodeConfigHost({ hostChecks: true }), interfaces: () => IFS };
  loadConfig(file, host); // warm-up (JIT)
  const times: number[] = [];
  let exit = -1;
  let instances = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = loadConfig(file, host);
    times.push(performance.now() - t0);
    exit = r.exitCode;
    instances = r.partial.instances.length;
  }
  return { times, exit, instances };
}

function findKeepalived(): string | undefined {
  for (const p of ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived', '/sbin/keepalived']) if (existsSync(p)) return p;
  return undefined;
}

function benchKeepalived(bin: string, file: string, runs: number): { times: number[]; exit: number } | string {
  if (process.getuid?.() !== 0) return 'not root (needs a network namespace)';
  const ns = `vbench-cfg-${process.pid}`;
  const peer = `${ns}-peer`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  const cleanup = () => {
    for (const n of [ns, peer]) spawnSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    ip('netns', 'add', ns);
    ip('netns', 'add', peer);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    for (let i = 0; i < 4; i++) {
      ip('-n', ns, 'link', 'add', `eth${i}`, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', peer);
      ip('-n', ns, 'addr', 'add', `192.168.20${i}.10/24`, 'dev', `eth${i}`);
      ip('-n', peer, 'link', 'set', `p${i}`, 'up');
      ip('-n', ns, 'link', 'set', `eth${i}`, 'up');
    }
    const times: number[] = [];
    let exit = -1;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', ns, bin, '-t', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120000 });
      times.push(performance.now() - t0);
      exit = r.status ?? -1;
    }
    return { times, exit };
  } catch (e) {
    return `namespace setup failed: ${(e as Error).message}`;
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function main(): void {
  const n = arg('instances', 1000);
  const runs = arg('runs', 10);
  const kRuns = arg('keepalived-runs', 5);
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-bench-cfg-'));
  const file = join(dir, 'keepalived.conf');
  try {
    const text = generateConfig(n);
    writeFileSync(file, text);
    console.log(`config: ${n} instances, ${text.split('\n').length - 1} lines, ${(text.length / 1024).toFixed(0)} KiB (${file})`);
    const rows: string[][] = [['parser', 'runs', 'median ms', 'min ms', 'max ms', 'instances/s', 'exit']];
    const v = benchVrrpd(file, runs);
    const vs = stats(v.times);
    rows.push([
      'vrrpd loadConfig',
      String(runs),
      vs.median.toFixed(1),
      vs.min.toFixed(1),
      vs.max.toFixed(1),
      Math.round((v.instances / vs.median) * 1000).toString(),
      String(v.exit),
    ]);
    const bin = findKeepalived();
    if (!bin) rows.push(['keepalived -t', '-', '-', '-', '-', '-', 'not installed']);
    else {
      const k = benchKeepalived(bin, file, kRuns);
      if (typeof k === 'string') rows.push(['keepalived -t', '-', '-', '-', '-', '-', k]);
      else {
        const ks = stats(k.times);
        rows.push([
          `keepalived -t (netns)`,
          String(kRuns),
          ks.median.toFixed(1),
          ks.min.toFixed(1),
          ks.max.toFixed(1),
          Math.round((n / ks.median) * 1000).toString(),
          String(k.exit),
        ]);
      }
    }
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((x, c) => (c === 0 ? x.padEnd(w[c]!) : x.padStart(w[c]!))).join('  '));
    console.log('(keepalived -t times include process start and its 4 parsing passes; vrrpd times are in-process, after one warm-up)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
