/**
 * The `vrrp_instance` keywords vrrpd reads and does not run (src/config/support.ts): kept in the
 * model's `unsupported` list. Pure.
 */
import type { Keyword, KeywordCtx } from '../dispatch.js';
import type { VrrpInstance } from '../model.js';
import { INSTANCE_NOT_RUN } from '../support.js';

/** Keywords vrrpd reads but does not implement (VMACs, IPVLAN, BFD...): kept in `unsupported`. */
export function notRunKeywords(on: (name: string, fn: (i: VrrpInstance, ctx: KeywordCtx) => void) => Keyword): Keyword[] {
  const unsupported = (name: string, block = false): Keyword =>
    on(name, (i, ctx) => {
      i.unsupported.push(ctx.words.join(' '));
      if (block) ctx.readValueBlock();
    });
  return [
    on('lvs_sync_daemon_interface', (i, ctx) => {
      ctx.diags.error(
        ctx.stmt,
        `(${i.name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.`,
        'lvs_sync_daemon_interface',
      );
      ctx.diags.error(ctx.stmt, `        Please use global lvs_sync_daemon`, 'lvs_sync_daemon_interface');
      i.unsupported.push(ctx.words.join(' '));
    }),
    ...INSTANCE_NOT_RUN.map((name) => unsupported(name, INSTANCE_NOT_RUN_BLOCKS.has(name))),
  ];
}

/** Those of them followed by a block. */
const INSTANCE_NOT_RUN_BLOCKS: ReadonlySet<string> = new Set(['track_bfd']);
