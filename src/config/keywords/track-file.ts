/**
 * The `track_file` block (and its old name `vrrp_track_file`, docs/keepalived-behaviour.md 2.6): its root keyword
 * (name, defaults, a file required when it closes) and its sub-keywords. Pure.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import type { TrackFile } from '../model.js';
import { readInt } from '../values.js';
import type { ParseState } from './parse-state.js';
import { blockName, loc } from './shared.js';

/** The root keyword `track_file NAME { ... }`, or its old name `vrrp_track_file` (`name`). */
export function trackFileBlock(st: ParseState, name: string): Keyword {
  const cfg = st.config;
  const diags = st.diags;
  let trackFile: TrackFile | undefined;
  return {
    name,
    handler: (ctx) => {
      trackFile = undefined;
      const n = blockName(
        ctx,
        `${name} must have a name - skipping`,
        (x) => cfg.trackFiles.some((t) => t.name === x),
        (x) => `track_file ${x} already defined`,
      );
      if (n === undefined) return;
      trackFile = { name: n, file: '', weight: 1, reverse: false, initValue: null, initOverwrite: false, origin: loc(ctx) };
    },
    sub: trackFileKeywords(() => trackFile),
    close: (at) => {
      const t = trackFile;
      trackFile = undefined;
      if (!t) return;
      if (t.file === '') {
        diags.error(at, `No file set for track_file ${t.name} - ignoring`, name);
        return;
      }
      cfg.trackFiles.push(t);
    },
  };
}

/** The `track_file` sub-keywords. */
function trackFileKeywords(cur: () => TrackFile | undefined): Keyword[] {
  const on = (name: string, fn: (t: TrackFile, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const t = cur();
      if (t) fn(t, ctx);
    },
  });
  return [
    on('file', (t, ctx) => void (t.file = ctx.word(1))),
    on('weight', (t, ctx) => {
      const v = readInt(ctx, ctx.word(1), -254, 254);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `Track file ${t.name} weight must be between [-254:254] inclusive, ignoring...`, 'weight');
        return;
      }
      t.weight = v;
      if (ctx.words[2] === 'reverse') t.reverse = true;
    }),
    on('init_file', (t, ctx) => {
      let k = 1;
      const w = ctx.words[k];
      if (w !== undefined && w !== 'overwrite') {
        if (/^[-+]?\d+$/.test(w)) t.initValue = Number(w);
        else ctx.diags.error(ctx.stmt, `track file ${t.name} init_file value '${w}' is invalid`, 'init_file');
        k++;
      } else t.initValue = 0;
      if (t.initValue === null) t.initValue = 0;
      if (ctx.words[k] === 'overwrite') t.initOverwrite = true;
    }),
  ];
}
