/**
 * Tracking arithmetic (docs/keepalived-behaviour.md 3.6, 2.4, 2.6): the state of tracked interfaces, scripts,
 * files and processes, the faults they cause and the effective priority. Pure.
 */
import type { InstanceParams, TrackedScript } from './instance-params.js';
import { PRIORITY_OWNER } from './constants.js';

/** Result state of one tracked script (keepalived `vrrp_script_child_thread()`). */
export interface ScriptTrackState {
  /** keepalived's `result` counter, 0..rise+fall-1; OK iff >= rise. */
  readonly result: number;
  /** 'init' until the first result (no contribution; weight 0 keeps the instance in INIT). */
  readonly status: 'init' | 'ok' | 'ko';
}

/** The tracked values an instance has seen so far. */
export interface TrackingState {
  /** Interface name -> up (IFF_UP && IFF_RUNNING). Missing = up (the runtime reports downs). */
  readonly interfaces: Readonly<Record<string, boolean>>;
  readonly scripts: Readonly<Record<string, ScriptTrackState>>;
  /** track_file name -> integer value (missing/empty file = 0). */
  readonly files: Readonly<Record<string, number>>;
  /** vrrp_track_process name -> quorum held (missing = not counted yet: no effect). */
  readonly processes: Readonly<Record<string, boolean>>;
}

/** A tracking observation from the runtime. */
export type TrackUpdate =
  | { readonly kind: 'interface'; readonly name: string; readonly up: boolean }
  /** One completed run of a vrrp_script: ok = exit status 0 (a timeout is a failure). */
  | { readonly kind: 'script'; readonly name: string; readonly ok: boolean }
  | { readonly kind: 'file'; readonly name: string; readonly value: number }
  /** A vrrp_track_process's quorum after its delays (src/runtime/track-process.ts). */
  | { readonly kind: 'process'; readonly name: string; readonly quorum: boolean };

/** Initial script state: result = rise-1 (first success makes it OK), or 0 and KO with init_fail. */
export function initialScriptState(s: TrackedScript): ScriptTrackState {
  return s.initFail ? { result: 0, status: 'ko' } : { result: s.rise - 1, status: 'init' };
}

export function initialTrackingState(params: InstanceParams): TrackingState {
  const scripts: Record<string, ScriptTrackState> = {};
  for (const s of params.trackScripts) scripts[s.name] = initialScriptState(s);
  return { interfaces: {}, scripts, files: {}, processes: {} };
}

/**
 * keepalived 2.2.7 `vrrp_script_child_thread()`: success climbs to rise (then jumps to the top,
 * rise+fall-1); failure walks down from the top and turns KO after `fall` failures in a row.
 */
export function nextScriptState(s: TrackedScript, cur: ScriptTrackState, ok: boolean): ScriptTrackState {
  const top = s.rise + s.fall - 1;
  if (ok) {
    if (cur.result < s.rise - 1) return { result: cur.result + 1, status: cur.status };
    // result == rise-1 is the OK edge ("VRRP_Script(x) succeeded"); once OK it sits at the top.
    return { result: top, status: 'ok' };
  }
  if (cur.result > s.rise) return { result: cur.result - 1, status: cur.status };
  // At rise (the last OK step: "VRRP_Script(x) failed"), below it, or never run: KO from the bottom.
  return { result: 0, status: 'ko' };
}

/** Apply an update; unknown names are ignored (returns the same object). */
export function applyTrackUpdate(params: InstanceParams, st: TrackingState, u: TrackUpdate): TrackingState {
  switch (u.kind) {
    case 'interface':
      return { ...st, interfaces: { ...st.interfaces, [u.name]: u.up } };
    case 'script': {
      const def = params.trackScripts.find((s) => s.name === u.name);
      if (def === undefined) return st;
      const cur = st.scripts[u.name] ?? initialScriptState(def);
      return { ...st, scripts: { ...st.scripts, [u.name]: nextScriptState(def, cur, u.ok) } };
    }
    case 'file':
      return { ...st, files: { ...st.files, [u.name]: Math.trunc(u.value) } };
    case 'process':
      return { ...st, processes: { ...st.processes, [u.name]: u.quorum } };
  }
}

/** What the tracked items say about the instance. */
export interface TrackingVerdict {
  /** Reasons the instance must be in FAULT (empty = none), e.g. "interface eth1 down", "script chk". */
  readonly faults: readonly string[];
  /** Unweighted scripts that have not produced a first result (instance stays in INIT). */
  readonly pendingScripts: readonly string[];
  /** Sum of weight contributions. */
  readonly weightSum: number;
  /** clamp(base + weights, 1, 254); the owner (255) is fixed. */
  readonly effectivePriority: number;
}

/**
 * The share of a two-state tracker (an interface up or down, a script OK or KO, a process quorum
 * held or not), as keepalived 2.2.7 counts it (vrrp_track.c, the same for the three): weight 0 is a
 * FAULT while "down" (reverse: while "up"); otherwise a positive weight adds W while "up" and a
 * negative one adds W while "down", and `reverse` negates what is added: `weight 10 reverse` takes
 * 10 off while the script succeeds, and adds nothing while it fails (watched: a succeeding script
 * at weight 10 reverse took priority 100 to 90; a failing one at weight 20 reverse left it at 100).
 */
export function trackerShare(weight: number, reverse: boolean, up: boolean): { fault: boolean; add: number } {
  if (weight === 0) return { fault: up === reverse, add: 0 };
  return { fault: false, add: weight > 0 === up ? weight * (reverse ? -1 : 1) : 0 };
}

/** docs/keepalived-behaviour.md 3.6: faults, pending scripts and effective priority from the tracked values. */
export function evaluateTracking(params: InstanceParams, st: TrackingState): TrackingVerdict {
  const faults: string[] = [];
  const pendingScripts: string[] = [];
  let sum = 0;
  for (const i of params.trackInterfaces) {
    const r = trackerShare(i.weight, i.reverse, st.interfaces[i.name] ?? true);
    if (r.fault) faults.push(`interface ${i.name} ${i.reverse ? 'up' : 'down'}`);
    sum += r.add;
  }
  for (const s of params.trackScripts) {
    const ss = st.scripts[s.name] ?? initialScriptState(s);
    if (ss.status === 'init') {
      // "Until a weighted script's first result, no contribution is applied"; an unweighted one holds INIT.
      if (s.weight === 0) pendingScripts.push(s.name);
      continue;
    }
    const r = trackerShare(s.weight, s.reverse, ss.status === 'ok');
    if (r.fault) faults.push(`script ${s.name}`);
    sum += r.add;
  }
  for (const f of params.trackFiles) {
    const value = st.files[f.name] ?? 0;
    if (f.weight === 0) {
      // docs/keepalived-behaviour.md 2.6: weight 0 -> non-zero value = FAULT (reverse: zero = FAULT)
      if ((value !== 0) !== f.reverse) faults.push(`track file ${f.name}`);
      continue;
    }
    const raw = value * f.weight * (f.reverse ? -1 : 1);
    const c = Math.max(-254, Math.min(253, raw));
    if (c <= -254) faults.push(`track file ${f.name}`);
    else sum += c;
  }
  for (const p of params.trackProcesses) {
    // not counted yet (a reload's new entry, until its update in the same work item): no effect
    const quorum = st.processes[p.name];
    if (quorum === undefined) continue;
    const r = trackerShare(p.weight, p.reverse, quorum);
    if (r.fault) faults.push(`tracked process ${p.name} quorum not achieved`); // keepalived's words
    sum += r.add;
  }
  const effectivePriority = params.basePriority === PRIORITY_OWNER ? PRIORITY_OWNER : Math.max(1, Math.min(254, params.basePriority + sum));
  return { faults, pendingScripts, weightSum: sum, effectivePriority };
}
