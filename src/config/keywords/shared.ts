/**
 * Helpers the keyword tables of several blocks share: the statement's location, the host's
 * interfaces, script commands and FIFOs, track weights and tracked interfaces, rule preferences and
 * the name prologue of a named root block. Each reports through the statement's diagnostics. Pure.
 */
import type { Diagnostics, SourceLoc } from '../diagnostics.js';
import type { KeywordCtx } from '../dispatch.js';
import type { FifoSpec, RuleEntry, ScriptCommand, TrackedInterface } from '../model.js';
import { splitQuotedEscaped } from '../words.js';
import type { ParseState } from './parse-state.js';

/** Where the statement being handled is. */
export const loc = (ctx: KeywordCtx): SourceLoc => ({ file: ctx.stmt.file, line: ctx.stmt.line });

/** The host's interfaces, when it knows them (keepalived checks names against them). */
export function interfaceFacts(st: ParseState) {
  return st.host.interfaces?.();
}

/** A name check for address lines, or undefined when the host does not know its interfaces. */
export function interfaceExistsFn(st: ParseState): ((n: string) => boolean) | undefined {
  const ifs = interfaceFacts(st);
  return ifs ? (n: string) => ifs.has(n) : undefined;
}

/**
 * A script keyword's command: keepalived re-parses the raw line shell-like; the first word after the
 * keyword is split again into argv; the next words are user and group.
 */
export function readScriptCommand(ctx: KeywordCtx, index = 1): ScriptCommand | undefined {
  ctx.word(index);
  const all = splitQuotedEscaped(ctx.stmt.text);
  if (!all.ok) {
    ctx.diags.error(ctx.stmt, all.message, ctx.words[0]);
    return undefined;
  }
  const cmdText = all.words[index];
  if (cmdText === undefined) return undefined;
  const argv = splitQuotedEscaped(cmdText);
  if (!argv.ok || argv.words.length === 0) {
    ctx.diags.error(ctx.stmt, argv.ok ? `${ctx.words[0]} has no command` : argv.message, ctx.words[0]);
    return undefined;
  }
  return { argv: argv.words, user: all.words[index + 1] ?? null, group: all.words[index + 2] ?? null };
}

/** `..._fifo PATH [USER [GROUP]]`. */
export function readFifo(ctx: KeywordCtx): FifoSpec {
  return { path: ctx.word(1), user: ctx.words[2] ?? null, group: ctx.words[3] ?? null };
}

/**
 * The `weight N`, `reverse` and `noreverse` options after a tracked item's name, with keepalived's
 * messages; undefined (after reporting) when the weight is missing or out of [min:max].
 */
export function trackWeight(
  ctx: KeywordCtx,
  words: readonly string[],
  min: number,
  max: number,
  what: string,
): { weight: number | null; reverse: boolean | null } | undefined {
  let weight: number | null = null;
  let reverse: boolean | null = null;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'weight') {
      const v = words[i + 1];
      if (v === undefined) {
        ctx.diags.error(ctx.stmt, `${what} ${words[0]} weight missing`, w);
        return undefined;
      }
      i++;
      if (!/^[-+]?\d+$/.test(v) || Number(v) < min || Number(v) > max) {
        ctx.diags.error(ctx.stmt, `weight for ${words[0]} must be between [${min}:${max}] inclusive. Ignoring...`, w);
        return undefined;
      }
      weight = Number(v);
    } else if (w === 'reverse') reverse = true;
    else if (w === 'noreverse') reverse = false;
    else {
      ctx.diags.error(ctx.stmt, `Unknown ${what} option '${w}' for ${words[0]}`, w);
    }
  }
  return { weight, reverse };
}

/** A `track_interface` line: the interface must exist unless `dynamic_interfaces`; weight -253..253. */
export function trackedInterface(
  st: ParseState,
  words: readonly string[],
  stmt: KeywordCtx['stmt'],
  ctx: KeywordCtx,
  owner: string,
): TrackedInterface | undefined {
  const name = words[0]!;
  const ifs = interfaceFacts(st);
  if (ifs && !ifs.has(name)) {
    if (st.config.global.dynamicInterfaces) {
      ctx.diags.error(stmt, `WARNING - interface ${name} for track_interface doesn't exist`, 'track_interface');
    } else {
      ctx.diags.error(stmt, `(${owner}) tracked interface ${name} doesn't exist`, 'track_interface');
      return undefined;
    }
  }
  const w = trackWeight({ ...ctx, stmt }, words, -253, 253, 'track interface');
  if (!w) return undefined;
  return { name, weight: w.weight ?? 0, reverse: w.reverse ?? false };
}

/** A rule without `preference` gets the next one down from 16384, as keepalived numbers them. */
export function assignPreference(st: ParseState, r: RuleEntry, stmt: KeywordCtx['stmt'], diags: Diagnostics): RuleEntry {
  if (r.preference !== null) return r;
  const pref = st.nextRulePreference--;
  diags.warn(stmt, `Rule has no preference specified - setting to ${pref}. This is probably not what you want.`, 'preference');
  return { ...r, preference: pref };
}

/**
 * The prologue of a named root block (`vrrp_instance NAME {`...): the name must be given and be new,
 * else keepalived reports it and skips the whole block. Returns the name, or undefined when skipped.
 */
export function blockName(
  ctx: KeywordCtx,
  missing: string,
  exists: (n: string) => boolean,
  duplicate: (n: string) => string,
): string | undefined {
  const n = ctx.words[1];
  const problem = n === undefined ? missing : exists(n) ? duplicate(n) : undefined;
  if (problem === undefined) return n;
  ctx.diags.error(ctx.stmt, problem, ctx.words[0]);
  ctx.skipBlock(true);
  return undefined;
}
