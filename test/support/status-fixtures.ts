/**
 * A status report and instance report as the daemon sends them (control/protocol.ts), for tests of
 * what reads one: the status printers, the metrics.
 */
import type { InstanceReport, StatusReport } from '../../src/control/protocol.js';

export const NOW = Date.parse('2026-11-24T10:00:00.000Z');
export const inst = (o: Partial<InstanceReport> = {}): InstanceReport => ({
  name: 'VI_1',
  state: 'MASTER',
  since: '2026-11-24T09:58:00.000Z',
  reason: 'master down timer expired',
  vrid: 51,
  interface: 'eth0',
  srcIp: '10.0.0.1',
  unicast: false,
  version: 2,
  family: 4,
  advertIntMs: 1000,
  learnedAdvertIntMs: null,
  masterDownIntervalMs: 3570,
  skewMs: 570,
  preempt: { mode: 'preempt', delayMs: 0 },
  transitions: [
    { at: '2026-11-24T09:57:56.000Z', from: 'INIT', to: 'BACKUP', reason: 'init', cause: 'init' },
    { at: '2026-11-24T09:58:00.000Z', from: 'BACKUP', to: 'MASTER', reason: 'master down timer expired', cause: 'master_down' },
  ],
  transitionCounts: [
    { from: 'INIT', to: 'BACKUP', cause: 'init', count: 1 },
    { from: 'BACKUP', to: 'MASTER', cause: 'master_down', count: 1 },
  ],
  basePriority: 100,
  effectivePriority: 110,
  hold: null,
  tracked: [{ kind: 'script', name: 'chk', status: 'ok', weight: 10, contribution: 10, fault: false }],
  faults: [],
  masterIp: '10.0.0.1',
  masterPriority: 110,
  master: { ip: '10.0.0.1', priority: 110 },
  peers: [{ ip: '10.0.0.2', priority: 90, lastSeen: '2026-11-24T09:59:59.000Z', ageMs: 1000 }],
  vips: [{ address: '10.0.0.100', present: true }],
  evips: [],
  lastGarp: '2026-11-24T09:58:00.010Z',
  syncGroup: null,
  counters: { advertsSent: 120, advertsReceived: 3, becameMaster: 1, releasedMaster: 0, priorityZeroSent: 0, priorityZeroReceived: 0 },
  drops: { ttl: 2, 'auth-password': 0 },
  ...o,
});
export const report = (instances: InstanceReport[]): StatusReport => ({
  protocol: 1,
  version: '0.1.0',
  pid: 4242,
  configFile: '/etc/keepalived/keepalived.conf',
  configLoadedAt: '2026-11-24T09:00:00.000Z',
  reloads: 0,
  startedAt: '2026-11-24T09:00:00.000Z',
  uptimeMs: 3_600_000,
  eventLoop: { maxLagMs: 3, lateTimers: 0, p50Ms: 10, p99Ms: 11 },
  maintenance: null,
  instances,
  syncGroups: [],
  interfaces: {},
});
