/**
 * The `vrrp_track_process` block (docs/keepalived-behaviour.md 2.8) and the `track_process { NAME
 * [weight N [reverse|noreverse]] }` references of instances and sync groups, with keepalived
 * 2.2.7's messages (oracle cases track-process-*.conf in test/fixtures/config-cases). Pure.
 *
 * What the block says, as keepalived reads it:
 * - `process NAME [ARG...]`: the process to count. Only the first `process` line counts. With
 *   arguments, the match uses the full command line and, unless a `param_match` came before, the
 *   arguments must match exactly.
 * - `param_match [exact|partial|initial]`: compare the arguments (alone: exact); it also switches
 *   to the full command line. `full_command`: compare argv[0] rather than the comm.
 * - `quorum N` (1..65535, default 1) and `quorum_max N` (0..65535, default none): the quorum is
 *   held while quorum <= count <= quorum_max. A quorum above an earlier quorum_max, or a
 *   quorum_max below an earlier quorum, is ignored; `quorum_max 0` alone sets the quorum to 0.
 * - `weight N [reverse]` (-254..254): the first non-zero weight sticks.
 * - `delay`, `terminate_delay`, `fork_delay` (seconds, 0.000001..3600): `delay` sets both.
 * A block without a `process` line is dropped when it closes. keepalived does not refuse a second
 * block of the same name: references find the first one.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import { defaultTrackProcess, type TrackedProcess, type TrackProcess } from '../model.js';
import { readInt, readSeconds, readUnsigned } from '../values.js';
import type { ParseState } from './parse-state.js';
import { loc } from './shared.js';

/** The root keyword `vrrp_track_process NAME { ... }`. */
export function trackProcessBlock(st: ParseState): Keyword {
  const cfg = st.config;
  let tp: TrackProcess | undefined;
  let hasProcess = false;
  return {
    name: 'vrrp_track_process',
    handler: (ctx) => {
      tp = undefined;
      const n = ctx.words[1];
      if (n === undefined) {
        ctx.diags.error(ctx.stmt, 'vrrp_track_process must have a name', 'vrrp_track_process');
        ctx.skipBlock(true);
        return;
      }
      hasProcess = false;
      tp = defaultTrackProcess(n, loc(ctx));
    },
    sub: trackProcessKeywords(
      () => tp,
      () => hasProcess,
      () => void (hasProcess = true),
    ),
    close: (at) => {
      const t = tp;
      tp = undefined;
      if (!t) return;
      if (!hasProcess) {
        st.diags.error(at, `track process '${t.name}' process name not specified`, 'vrrp_track_process');
        return;
      }
      cfg.trackProcesses.push(t);
    },
  };
}

/** The `vrrp_track_process` sub-keywords. */
function trackProcessKeywords(cur: () => TrackProcess | undefined, hasProcess: () => boolean, setProcess: () => void): Keyword[] {
  const on = (name: string, fn: (t: TrackProcess, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const t = cur();
      if (t) fn(t, ctx);
    },
  });
  const delay = (name: string, terminate: boolean, fork: boolean): Keyword =>
    on(name, (t, ctx) => {
      const ms = readSeconds(ctx, ctx.word(1), 0.000001, 3600, true);
      if (ms === undefined) {
        ctx.diags.error(
          ctx.stmt,
          `${name} (${ctx.words[1]}) for vrrp_track_process ${t.name} must be between [0.000001..3600] inclusive. Ignoring...`,
          name,
        );
        return;
      }
      if (terminate) t.terminateDelayMs = ms;
      if (fork) t.forkDelayMs = ms;
    });
  return [
    on('process', (t, ctx) => {
      if (hasProcess()) {
        ctx.diags.error(ctx.stmt, `Process already set for track process ${t.name} - ignoring ${ctx.words[1]}`, 'process');
        return;
      }
      setProcess();
      t.process = ctx.word(1);
      if (ctx.words.length > 2) {
        t.params = ctx.words.slice(2);
        if (t.paramMatch === 'none') t.paramMatch = 'exact';
        t.fullCommand = true;
      }
    }),
    on('param_match', (t, ctx) => {
      const w = ctx.words[1];
      if (w === undefined) t.paramMatch = 'exact';
      else if (w === 'initial' || w === 'partial') t.paramMatch = w;
      else {
        ctx.diags.error(ctx.stmt, `Invalid param_match type ${w} - ignoring`, 'param_match');
        return;
      }
      t.fullCommand = true;
    }),
    on('weight', weightOf),
    on('quorum', quorumOf),
    on('quorum_max', quorumMaxOf),
    delay('delay', true, true),
    delay('terminate_delay', true, false),
    delay('fork_delay', false, true),
    on('full_command', (t) => void (t.fullCommand = true)),
  ];
}

/** `quorum N`. */
function quorumOf(t: TrackProcess, ctx: KeywordCtx): void {
  const v = readUnsigned(ctx, ctx.word(1), 1, 65535);
  if (v === undefined) {
    ctx.diags.error(
      ctx.stmt,
      `Quorum (${ctx.words[1]}) for vrrp_track_process ${t.name} must be between [1..65535] inclusive. Ignoring...`,
      'quorum',
    );
  } else if (t.quorumMax !== null && v > t.quorumMax) {
    ctx.diags.error(ctx.stmt, 'Quorum is greater than quorum_max - ignoring', 'quorum');
  } else t.quorum = v;
}

/** `quorum_max N`. */
function quorumMaxOf(t: TrackProcess, ctx: KeywordCtx): void {
  const v = readUnsigned(ctx, ctx.word(1), 0, 65535);
  if (v === undefined) {
    ctx.diags.error(
      ctx.stmt,
      `quorum_max (${ctx.words[1]}) for vrrp_track_process ${t.name} must be between [0..65535] inclusive. Ignoring...`,
      'quorum_max',
    );
    return;
  }
  // quorum_max 0 is accepted while the quorum is the default 1 (it then sets the quorum to 0)
  if ((v !== 0 || t.quorum > 1) && v < t.quorum) {
    ctx.diags.error(ctx.stmt, 'quorum_max is less than quorum - ignoring', 'quorum_max');
    return;
  }
  t.quorumMax = v;
  if (v === 0) t.quorum = 0;
  else if (t.quorum === 0) t.quorum = 1;
}

/** `weight N [reverse]` in the block. */
function weightOf(t: TrackProcess, ctx: KeywordCtx): void {
  if (ctx.words.length < 2) {
    ctx.diags.error(ctx.stmt, `No weight specified for track process ${t.name} - ignoring`, 'weight');
    return;
  }
  if (t.weight !== 0) {
    ctx.diags.error(ctx.stmt, `Weight already set for track process ${t.name} - ignoring ${ctx.words[1]}`, 'weight');
    return;
  }
  const v = readInt(ctx, ctx.word(1), -254, 254);
  if (v === undefined) {
    ctx.diags.error(
      ctx.stmt,
      `Weight (${ctx.words[1]}) for vrrp_track_process ${t.name} must be between [-254..254] inclusive. Ignoring...`,
      'weight',
    );
    return;
  }
  const opt = ctx.words[2];
  if (opt === 'reverse') t.reverse = true;
  else if (opt !== undefined) ctx.diags.error(ctx.stmt, `vrrp_track_process ${t.name} unknown weight option ${opt}`, 'weight');
  t.weight = v;
}

/**
 * The lines of a `track_process { ... }` block in instance or sync group `owner` (its name), as
 * keepalived reads them: an unknown name or a repeated one is reported and skipped; a bad weight
 * keeps the block's own weight; an unknown option after the weight is reported and ignored.
 */
export function readTrackProcessRefs(st: ParseState, ctx: KeywordCtx, owner: string, into: TrackedProcess[]): void {
  for (const l of ctx.readValueBlock()) {
    const [name, opt, value, rev] = l.words as [string, string?, string?, string?];
    const say = (m: string): void => ctx.diags.error(l.stmt, `(${owner}) ${m}`, 'track_process');
    const def = st.config.trackProcesses.find((t) => t.name === name);
    if (def === undefined) {
      say(`track process ${name} not found, ignoring...`);
      continue;
    }
    if (into.some((t) => t.name === name)) {
      say(`duplicate track_process ${name} - ignoring`);
      continue;
    }
    let weight: number | null = null;
    let reverse: boolean | null = null;
    if (opt !== undefined) {
      if (opt !== 'weight') {
        say(`unknown track process option ${opt} - ignoring`);
        continue;
      }
      if (value === undefined) {
        say(`weight without value specified for track process ${name} - ignoring`);
        continue;
      }
      const v = readInt({ ...ctx, stmt: l.stmt }, value, -254, 254);
      if (v === undefined) say(`weight for track process ${name} must be in [-254..254] inclusive. Ignoring...`);
      else weight = v;
      if (rev === 'reverse') reverse = true;
      else if (rev === 'noreverse') reverse = false;
      else if (rev !== undefined) say(`unknown track_process ${name} weight option ${rev} - ignoring`);
    }
    into.push({ name, weight, reverse });
  }
}
