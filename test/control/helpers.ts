/**
 * Helpers for the control namespace tests: the built CLI against a node's control socket, status
 * over the socket, ping-gap rounds.
 */
import { execFile } from 'node:child_process';
import { request } from '../../src/control/client.js';
import type { ControlRequest, InstanceReport, StatusReport } from '../../src/control/protocol.js';
import { longestGapMs, median, startPinger, wallNowMs, type Pinger } from '../support/vrrp-harness.js';
import type { Lab } from '../support/netns.js';
import { pollUntil, sleep } from '../support/netns.js';
import { VRRPD_BIN } from '../daemon/helpers.js';

export { median };

/** Run the built `vrrpd` CLI (outside any namespace: it only needs the socket). */
export function cli(args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VRRPD_BIN, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function report(socket: string): Promise<StatusReport> {
  const r = await request(socket, { cmd: 'status' }, 3000);
  if (!r.ok) throw new Error(r.error);
  return r.status as StatusReport;
}

export async function vi1(socket: string): Promise<InstanceReport> {
  return (await report(socket)).instances.find((i) => i.name === 'VI_1')!;
}

export async function waitVi1(socket: string, state: string, timeoutMs = 8000): Promise<void> {
  await pollUntil(async () => (await vi1(socket).catch(() => undefined))?.state === state, timeoutMs, `${socket} VI_1 ${state}`, 20);
}

export async function send(socket: string, req: ControlRequest): Promise<Record<string, unknown>> {
  const r = await request(socket, req, 10_000);
  if (!r.ok) throw new Error(`${req.cmd}: ${r.error}`);
  return r as Record<string, unknown>;
}

export interface GapMeter {
  readonly ping: Pinger;
  /** Run `action`, wait until `done()` and `settleMs` more; the longest reply gap from the action's start. */
  measure(action: () => Promise<unknown>, done: () => Promise<boolean>, settleMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** A client pinging `vip` every 5 ms from `host`. */
export async function gapMeter(lab: Lab, host: string, vip: string): Promise<GapMeter> {
  const ping = startPinger(lab, host, vip, 0.005);
  await pollUntil(() => ping.replies().length >= 10, 5000, `pings to ${vip} answered`, 20);
  return {
    ping,
    async measure(action, done, settleMs = 600) {
      await sleep(200);
      const t0 = wallNowMs();
      await action();
      await pollUntil(done, 10_000, 'hand-over done', 10);
      await sleep(settleMs);
      return longestGapMs(ping.replies(), t0, wallNowMs());
    },
    stop: () => ping.stop(),
  };
}
