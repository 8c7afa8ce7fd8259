/**
 * Helpers for the daemon integration tests: run the built `vrrpd run` in a lab host, talk to its
 * control socket, build keepalived.conf text, read adverts and GARPs out of captures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import type { Lab, LabProcess } from '../support/netns.js';
import { pollUntil } from '../support/netns.js';
import type { Decoded } from '../support/pcap.js';
import { withLabUsers, writeLabUsers } from '../support/lab-users.js';
import { launcherArgv } from '../../src/cli/launcher.js';

export const VRRPD_BIN = resolve(import.meta.dirname, '../../bin/vrrpd');
export const DIST_MAIN = resolve(import.meta.dirname, '../../dist/cli/main.js');
/** How the tests start the daemon: this Node, with the launcher's own Node options (its `#!` line). */
export const VRRPD_ARGV: readonly string[] = launcherArgv(VRRPD_BIN);

/** For tap's `skip` option: a missing or stale build fails the test file (test/support/build-check.ts). */
export { requireBuild } from '../support/build-check.js';

export interface VrrpdNode {
  readonly host: string;
  readonly proc: LabProcess;
  readonly conf: string;
  readonly socket: string;
  readonly stateDir: string;
}

export interface InstanceOpts {
  name?: string;
  vrid?: number;
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  vips: string[];
  pass?: string;
  unicastSrc?: string;
  peers?: string[];
  extra?: string;
  iface?: string;
}

export function instanceConf(o: InstanceOpts): string {
  const lines = [
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
    `    state ${o.state ?? 'BACKUP'}`,
    `    interface ${o.iface ?? 'eth0'}`,
    `    virtual_router_id ${o.vrid ?? 51}`,
    `    priority ${o.priority}`,
    `    advert_int 1`,
  ];
  if (o.pass !== undefined) lines.push(`    authentication {`, `        auth_type PASS`, `        auth_pass ${o.pass}`, `    }`);
  if (o.unicastSrc !== undefined)
    lines.push(`    unicast_src_ip ${o.unicastSrc}`, `    unicast_peer {`, ...(o.peers ?? []).map((p) => `        ${p}`), `    }`);
  lines.push(`    virtual_ipaddress {`, ...o.vips.map((v) => `        ${v}`), `    }`);
  if (o.extra) lines.push(o.extra);
  lines.push(`}`);
  return lines.join('\n');
}

export function confText(router: string, body: string, globals = ''): string {
  return `global_defs {\n    router_id ${router}\n${globals}}\n\n${body}\n`;
}

/** Write the config and start `vrrpd run` in `host`; resolves once it logged "Startup complete". */
export async function startVrrpd(lab: Lab, host: string, conf: string, extraArgs: string[] = []): Promise<VrrpdNode> {
  const stateDir = join(lab.tmpDir, `state-${host}`);
  mkdirSync(stateDir, { recursive: true });
  const file = join(lab.tmpDir, `${host}.conf`);
  writeFileSync(file, conf);
  // the lab's user database (root and nobody; no keepalived_script): hooks run as root whatever
  // users this machine has
  const usersDir = join(lab.tmpDir, `users-${host}`);
  mkdirSync(usersDir, { recursive: true });
  const argv = [...VRRPD_ARGV, 'run', '-f', file, '--log-console', '-D', '--state-dir', stateDir, ...extraArgs];
  const proc = lab.spawn(host, withLabUsers(writeLabUsers(usersDir), argv));
  // A daemon that dies on its own (a signal we did not send, or a failing exit) leaves its last
  // words on the test's stderr, so a failure in CI can be diagnosed from the log alone.
  void proc.exited.then(() => {
    const sig = proc.exitSignal;
    if (
      (sig !== null && !['SIGTERM', 'SIGKILL', 'SIGINT'].includes(sig)) ||
      (sig === null && proc.exitCode !== 0 && proc.exitCode !== null)
    ) {
      process.stderr.write(
        `[vrrpd@${host} exited by itself: code=${proc.exitCode} signal=${sig}]\n${proc.output.split('\n').slice(-60).join('\n')}\n`,
      );
    }
  });
  await proc.waitFor(/Startup complete/, 10_000);
  return { host, proc, conf: file, socket: join(stateDir, 'vrrpd.sock'), stateDir };
}

/** One request on the control socket. */
export function control(node: VrrpdNode, cmd: string, timeoutMs = 3000): Promise<any> {
  return new Promise((resolvePromise, reject) => {
    const s = connect(node.socket);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`control ${cmd} timed out`));
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('connect', () => s.write(`${JSON.stringify({ cmd })}\n`));
    s.on('data', (d) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) {
        clearTimeout(timer);
        s.end();
        resolvePromise(JSON.parse(buf.slice(0, i)));
      }
    });
  });
}

export async function instanceStatus(node: VrrpdNode, name = 'VI_1'): Promise<any> {
  const r = await control(node, 'status');
  return (r.status.instances as any[]).find((i) => i.name === name);
}

export async function waitState(node: VrrpdNode, state: string, timeoutMs = 8000, name = 'VI_1'): Promise<void> {
  await pollUntil(async () => (await instanceStatus(node, name))?.state === state, timeoutMs, `${node.host} ${name} ${state}`, 50);
}

export async function hasAddress(lab: Lab, host: string, ip: string): Promise<boolean> {
  return (await lab.addresses(host)).some((a) => a.local === ip);
}

/** VRRP adverts in a capture: time (ms), source, priority, vrid, TTL. */
export function adverts(frames: Decoded[]): { tMs: number; src: string; dst: string; priority: number; vrid: number; ttl: number }[] {
  const out: { tMs: number; src: string; dst: string; priority: number; vrid: number; ttl: number }[] = [];
  for (const f of frames as any[]) {
    const ip = f.ip;
    if (!ip || ip.protocol !== 112) continue;
    const p: Buffer = ip.payload;
    out.push({ tMs: f.tsUs / 1000, src: ip.src, dst: ip.dst, priority: p[2]!, vrid: p[1]!, ttl: ip.ttl });
  }
  return out;
}

/** Gratuitous ARPs (sender IP = target IP) in a capture. */
export function garps(frames: Decoded[]): { tMs: number; ip: string; mac: string }[] {
  const out: { tMs: number; ip: string; mac: string }[] = [];
  for (const f of frames as any[]) {
    const a = f.arp;
    if (!a || a.op !== 1 || a.senderIp !== a.targetIp) continue;
    out.push({ tMs: f.tsUs / 1000, ip: a.senderIp, mac: a.senderMac });
  }
  return out;
}
