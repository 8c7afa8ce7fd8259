/**
 * `vrrpd promote`, `switchover`, `maintenance` and `reload`: one control request each, a sentence
 * back (or the daemon's JSON answer with --json). Never loads io/.
 */
import { ControlClientError, request } from '../control/client.js';
import { DEFAULT_SOCKET, parseDuration, type ControlRequest } from '../control/protocol.js';
import type { Io } from './check.js';

export const MANUAL_USAGE = `  promote INSTANCE [--priority N] | promote --clear [INSTANCE]
        take MASTER now by advertising above the current master (holds until --clear; --clear
        also ends a switchover's yield)
  switchover INSTANCE [--peer-socket PATH[,PATH...]]
        on the MASTER: hand over to the best vrrpd peer reachable on a control socket (it
        promotes itself), else by a priority-0 advert (this node then holds priority 1 until
        'promote --clear')
  maintenance on|off [INSTANCE] [--for DURATION]
        keep this node (or one instance) out of MASTER (priority 1, hands over when MASTER);
        persisted across reload and restart; DURATION like 90s, 10m, 2h
  reload        reload the configuration (like SIGHUP); fails if the new one does not load
  (all take --control-socket PATH, alias --socket, and --json)
`;

export interface ManualArgs {
  readonly cmd: 'promote' | 'switchover' | 'maintenance' | 'reload';
  readonly rest: readonly string[];
  readonly flags: ReadonlyMap<string, string>;
}

/** Build the request from argv, or an error sentence (exit 2). */
export function manualRequest(a: ManualArgs): ControlRequest | string {
  const [first, second] = a.rest;
  switch (a.cmd) {
    case 'reload':
      return { cmd: 'reload' };
    case 'promote': {
      if (a.flags.has('--clear')) return { cmd: 'promote', clear: true, ...(first !== undefined ? { instance: first } : {}) };
      if (first === undefined) return 'promote needs an instance name (vrrpd promote VI_1)';
      const p = a.flags.get('--priority');
      if (p !== undefined && !/^\d+$/.test(p)) return `--priority takes 1..255, not '${p}'`;
      const priority = p === undefined ? undefined : Number(p);
      if (priority !== undefined && (priority < 1 || priority > 255)) return `--priority takes 1..255, not '${p}'`;
      return { cmd: 'promote', instance: first, ...(priority !== undefined ? { priority } : {}) };
    }
    case 'switchover': {
      if (first === undefined) return 'switchover needs an instance name (vrrpd switchover VI_1)';
      const peers = (a.flags.get('--peer-socket') ?? '').split(',').filter((s) => s !== '');
      return { cmd: 'switchover', instance: first, ...(peers.length > 0 ? { peerSockets: peers } : {}) };
    }
    case 'maintenance': {
      if (first !== 'on' && first !== 'off') return "maintenance takes 'on' or 'off' (vrrpd maintenance on [VI_1] [--for 10m])";
      const f = a.flags.get('--for');
      const forMs = f === undefined ? undefined : parseDuration(f);
      if (f !== undefined && forMs === undefined) return `--for takes a duration like 90s, 10m or 2h, not '${f}'`;
      if (first === 'off' && forMs !== undefined) return '--for only goes with maintenance on';
      return {
        cmd: 'maintenance',
        on: first === 'on',
        ...(second !== undefined ? { instance: second } : {}),
        ...(forMs !== undefined ? { forMs } : {}),
      };
    }
  }
}

export async function runManual(a: ManualArgs, io: Io): Promise<number> {
  const req = manualRequest(a);
  if (typeof req === 'string') {
    io.err(`vrrpd ${a.cmd}: ${req}`);
    return 2;
  }
  const socket = a.flags.get('--socket') ?? DEFAULT_SOCKET;
  let r;
  try {
    r = await request(socket, req, a.cmd === 'switchover' || a.cmd === 'reload' ? 15_000 : 5000);
  } catch (e) {
    io.err(`vrrpd ${a.cmd}: ${e instanceof ControlClientError ? e.message : String(e)}`);
    return 1;
  }
  if (a.flags.has('--json')) io.out(JSON.stringify(r, null, 2));
  if (!r.ok) {
    if (!a.flags.has('--json')) io.err(`vrrpd ${a.cmd}: ${r.error}`);
    return 1;
  }
  if (!a.flags.has('--json')) io.out(describe(req, r));
  return 0;
}

function describe(req: ControlRequest, r: Readonly<Record<string, unknown>>): string {
  switch (req.cmd) {
    case 'reload':
      return 'configuration reloaded';
    case 'promote':
      if (req.clear) {
        const c = (r.cleared as string[] | undefined) ?? [];
        return c.length === 0 ? 'no promote/yield hold to clear' : `hold cleared on ${c.join(', ')}`;
      }
      return `${String(r.instance)} is ${String(r.state)}, holding priority ${String(r.priority)}${r.previousMaster ? ` (took over from ${(r.previousMaster as { ip: string }).ip})` : ''}; 'vrrpd promote --clear ${String(r.instance)}' ends it`;
    case 'switchover':
      if (r.via === 'peer')
        return `${String(r.instance)} handed over to the vrrpd peer at ${String(r.peer)} (${String(r.peerInstance)}); now ${String(r.state)} here`;
      if (r.via === 'priority-0')
        return `${String(r.instance)} sent priority 0 and is ${String(r.state)}; holding priority 1 until 'vrrpd promote --clear ${String(r.instance)}'`;
      return `${String(r.instance)} is ${String(r.state)}`;
    case 'maintenance':
      /* eslint-disable @typescript-eslint/no-base-to-string -- JSON from the daemon: instance and until are strings, not objects */
      return r.maintenance
        ? `maintenance on for ${r.instance === null ? 'this node' : String(r.instance)}${r.until ? ` until ${String(r.until)}` : ''}${r.persisted === false ? ' (NOT persisted: see the daemon log)' : ''}`
        : `maintenance off for ${r.instance === null ? 'this node' : String(r.instance)}`;
    /* eslint-enable @typescript-eslint/no-base-to-string */
    default:
      return 'ok';
  }
}
