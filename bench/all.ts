/**
 * `npm run bench`: every vrrpd-vs-keepalived benchmark in one go, each printing its table with
 * vrrpd / keepalived ratios (root; build first: `npx tsc -p . && npm run build:bench`):
 *  1. config parse (build/bench/config-parse.js, its own table);
 *  2. failover (build/bench/failover.js --rounds 3, its own table);
 *  3. scale: 255 instances on one interface, then 1,000 on four (this package's scale.ts);
 *  4. hostile traffic throughput is a test (test/robust/hostile.test.ts), not repeated here;
 *  5. control-socket flood (build/bench/control-flood.js, its own table: 10,000 pipelined status
 *     requests and 1,000 idle connections on a master, quiet and flood side by side);
 *  6. start-up and footprint (build/bench/startup.js: spawn -> every instance's first state, RSS and
 *     whole-process check beside keepalived -t, 1, 255 and 1,000
 *     instances, min / median / max and the ratio to keepalived).
 * `--quick`: scale windows of 5 s, failover 1 round, flood windows of 10 s.
 * `--only scale|failover|config|control|startup`.
 * `--write FILE`: replace the scale section of FILE (between `<!-- scale:begin -->` and
 * `<!-- scale:end -->`) with this run's tables, machine and command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runScale, scaleTable, type ScaleResult } from './scale.js';

function machine(): string {
  const sh = (c: string, a: string[]): string => {
    const r = spawnSync(c, a, { encoding: 'utf8', timeout: 5000 });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || '?'; // keepalived --version writes to stderr
  };
  return [
    `- \`nproc\`: ${cpus().length} (${cpus()[0]?.model ?? '?'}), memory ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel \`${sh('uname', ['-sr'])}\`, node ${process.version}, ${sh('keepalived', ['--version']).split('\n')[0] ?? '?'}`,
    `- load average at the start (other jobs on the machine): ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const write = argv.includes('--write') ? argv[argv.indexOf('--write') + 1] : undefined;
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces)');
  const started = new Date().toISOString();
  const mach = machine();
  process.stdout.write(`vrrpd benchmarks, ${started}\n${mach}\n\n`);
  const child = (script: string, args: string[]): void => {
    const p = fileURLToPath(new URL(script, import.meta.url)); // a sibling in the bench build
    if (!existsSync(p)) {
      process.stdout.write(`(${script} not built, skipped)\n`);
      return;
    }
    process.stdout.write(`## ${script} ${args.join(' ')}\n`);
    spawnSync(process.execPath, [p, ...args], { stdio: 'inherit' });
  };
  if (!only || only === 'config') child('config-parse.js', []);
  if (!only || only === 'failover') child('failover.js', ['--rounds', quick ? '1' : '3']);
  if (!only || only === 'control') child('control-flood.js', quick ? ['--quiet', '10', '--flood', '10'] : []);
  if (!only || only === 'startup') child('startup.js', ['--runs', quick ? '3' : '5']);
  if (only && only !== 'scale') return 0;
  const windowS = quick ? 5 : 20;
  const sections: string[] = [];
  const all: ScaleResult[] = [];
  for (const [instances, ifaces] of [
    [255, 1],
    [1000, 4],
  ] as const) {
    process.stdout.write(`\n## scale: ${instances} instances on ${ifaces} interface(s), ${windowS} s window\n`);
    const rs = await runScale({ instances, ifaces, windowS, impls: ['keepalived', 'vrrpd'] });
    all.push(...rs);
    const table = scaleTable(rs);
    process.stdout.write(`\n${table}\n`);
    sections.push(table);
  }
  const v255 = all.find((r) => r.impl === 'vrrpd' && r.instances === 255);
  const k255 = all.find((r) => r.impl === 'keepalived' && r.instances === 255);
  const v1k = all.find((r) => r.impl === 'vrrpd' && r.instances === 1000);
  const k1k = all.find((r) => r.impl === 'keepalived' && r.instances === 1000);
  const verdict = (ok: boolean | undefined, s: string): string => `- ${ok ? 'PASS' : 'FAIL'}: ${s}`;
  const acc = [
    verdict(v255 && v255.jitter.p99 <= 5, `255 instances: vrrpd advert jitter p99 <= 5 ms (${v255?.jitter.p99.toFixed(2)} ms)`),
    verdict(
      v255 && k255 && v255.cpuMasterPct <= 2 * k255.cpuMasterPct,
      `255 instances: vrrpd master CPU <= 2 x keepalived's (${v255?.cpuMasterPct.toFixed(1)} % vs ${k255?.cpuMasterPct.toFixed(1)} %)`,
    ),
    verdict(
      v255 && k255 && v255.cpuBackupPct <= 2 * k255.cpuBackupPct,
      `255 instances: vrrpd backup CPU <= 2 x keepalived's (${v255?.cpuBackupPct.toFixed(1)} % vs ${k255?.cpuBackupPct.toFixed(1)} %)`,
    ),
    verdict(
      v1k && k1k && v1k.vipsOnBackup === 1000 && v1k.failoverAllMs <= k1k.failoverAllMs + 1000,
      `1,000 instances: every VIP on the backup within 1 s of keepalived (${v1k?.failoverAllMs.toFixed(0)} ms vs ${k1k?.failoverAllMs.toFixed(0)} ms)`,
    ),
  ];
  process.stdout.write(`\nAcceptance (issue 6):\n${acc.join('\n')}\n`);
  if (write) {
    const cmd = `node build/bench/all.js${quick ? ' --quick' : ''} --only scale --write ${write}`;
    const body = [
      '<!-- scale:begin -->',
      '## Scale: N instances, vrrpd vs keepalived 2.2.7',
      '',
      `Written by \`bench/all.ts\` (\`${cmd}\`, as root after \`npx tsc -p . && npm run build:bench\`); run ${started}.`,
      'Lab: master a (priority 150) and backup b (priority 100), the same keepalived.conf for both implementations',
      '(`advert_int 1`, no auth, one /32 VIP per instance; eth0 over a bridge, eth1-3 direct veth pairs). CPU % = utime+stime',
      'of every process of the daemon over the window (keepalived: parent + VRRP child) / wall time, measured after all VIPs',
      'were on the master + 10 s; RSS = sum of VmRSS. Jitter = |interval - 1000 ms| between consecutive adverts of each VRID',
      "on eth0, tcpdump kernel timestamps on the backup's eth0. Failover = SIGKILL of the master's process group -> the VIP's",
      '`ip monitor address` event in b (first / last of all N).',
      '',
      mach,
      '',
      ...sections.flatMap((s) => [s, '']),
      'Acceptance:',
      '',
      ...acc,
      '<!-- scale:end -->',
    ].join('\n');
    let text = existsSync(write) ? readFileSync(write, 'utf8') : '# Benchmarks\n';
    const re = /<!-- scale:begin -->[\s\S]*?<!-- scale:end -->/;
    text = re.test(text) ? text.replace(re, body) : `${text.trimEnd()}\n\n${body}\n`;
    writeFileSync(write, text);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
