/**
 * The `vrrp_script` block (docs/keepalived-behaviour.md 2.4): its root keyword (name, defaults, and what is checked
 * when it closes: a command, a user it may run as) and its sub-keywords. Pure.
 */
import type { KeywordCtx, Keyword } from '../dispatch.js';
import type { VrrpScript } from '../model.js';
import { readInt, readUnsigned } from '../values.js';
import type { ParseState } from './parse-state.js';
import { blockName, loc, readScriptCommand } from './shared.js';

/** The root keyword `vrrp_script NAME { ... }`. */
export function scriptBlock(st: ParseState): Keyword {
  const cfg = st.config;
  const diags = st.diags;
  let script: VrrpScript | undefined;
  return {
    name: 'vrrp_script',
    handler: (ctx) => {
      script = undefined;
      const n = blockName(
        ctx,
        'vrrp_script must have a name',
        (x) => cfg.scripts.some((s) => s.name === x),
        (x) => `vrrp script ${x} already defined`,
      );
      if (n === undefined) return;
      script = {
        name: n,
        script: { argv: [], user: null, group: null },
        intervalMs: 1000,
        timeoutMs: 0,
        weight: 0,
        reverse: false,
        rise: 1,
        fall: 1,
        initFail: false,
        origin: loc(ctx),
      };
      st.scriptExtras.set(script, { set: new Set(), scriptLine: null, userFailed: false });
    },
    sub: scriptKeywords(st, () => script),
    close: (at) => {
      const s = script;
      script = undefined;
      if (!s) return;
      if (s.script.argv.length === 0) {
        diags.error(at, `No script set for vrrp_script ${s.name} - removing`, 'vrrp_script');
        return;
      }
      // an unknown `user` was reported on its line; a refused default user is reported here
      if (st.scriptExtras.get(s)!.userFailed || !st.identities.acceptVrrpScript(s.name, s.script, at)) return;
      cfg.scripts.push(s);
    },
  };
}

/** The `vrrp_script` sub-keywords. */
function scriptKeywords(st: ParseState, cur: () => VrrpScript | undefined): Keyword[] {
  const on = (name: string, fn: (s: VrrpScript, ctx: KeywordCtx) => void): Keyword => ({
    name,
    handler: (ctx) => {
      const s = cur();
      if (!s) return;
      st.scriptExtras.get(s)!.set.add(name);
      fn(s, ctx);
    },
  });
  const secs = (name: string, field: 'intervalMs' | 'timeoutMs') =>
    on(name, (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 0, 4294);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `(${s.name}): vrrp script ${name} '${ctx.words[1]}' must be between 1 and 4294 - ignoring`, name);
        return;
      }
      if (v === 0) {
        ctx.diags.error(ctx.stmt, `vrrp script ${name} must be >= 1, setting to 1`, name);
        s[field] = 1000;
      } else s[field] = v * 1000;
    });
  return [
    on('script', (s, ctx) => {
      const cmd = readScriptCommand(ctx);
      // keepalived takes only the command here (words after it are ignored); the user comes from
      // the `user` line, before or after this one
      if (cmd) s.script = { argv: cmd.argv, user: s.script.user, group: s.script.group };
      st.scriptExtras.get(s)!.scriptLine = ctx.stmt.text;
    }),
    secs('interval', 'intervalMs'),
    secs('timeout', 'timeoutMs'),
    on('weight', (s, ctx) => {
      const v = readInt(ctx, ctx.word(1), -253, 253);
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} weight must be between [-253:253] inclusive, ignoring...`, 'weight');
        return;
      }
      s.weight = v;
      if (ctx.words[2] === 'reverse') s.reverse = true;
    }),
    on('rise', (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 2147483647);
      if (v === undefined) ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} rise value invalid, must be >= 1`, 'rise');
      else s.rise = v;
    }),
    on('fall', (s, ctx) => {
      const v = readUnsigned(ctx, ctx.word(1), 1, 2147483647);
      if (v === undefined) ctx.diags.error(ctx.stmt, `vrrp_script ${s.name} fall value invalid, must be >= 1`, 'fall');
      else s.fall = v;
    }),
    on('user', (s, ctx) => {
      const user = ctx.word(1);
      const group = ctx.words[2] ?? null;
      // keepalived: a later `user` line that resolves clears an earlier failure
      st.scriptExtras.get(s)!.userFailed = !st.identities.vrrpScriptUser(s.script.argv, user, group, loc(ctx));
      s.script = { ...s.script, user, group };
    }),
    on('init_fail', (s) => void (s.initFail = true)),
  ];
}
