/**
 * loadConfig(): keepalived.conf text -> typed, frozen model + diagnostics + keepalived -t exit code.
 * Pure apart from the injected ConfigHost. Bounded: every limit in limits.ts ends the load with a
 * fatal diagnostic that names it (the config is refused), and the file is read once.
 */
import { Diagnostics, MissingParameterStop, exitCodeFor, type Diagnostic } from './diagnostics.js';
import { Dispatcher } from './dispatch.js';
import type { ConfigHost } from './host.js';
import { completeConfig } from './completion.js';
import { newParseState } from './keywords/parse-state.js';
import { otherPassRootKeywords, rootKeywords } from './keywords/root.js';
import { LIMIT_NAMES, loadLimits, type LoadLimits } from './limits.js';
import { deepFreeze, type FrozenConfig } from './model.js';
import { notRunDiagnostics, runtimeRefusals, runtimeWarnings } from './runtime-support.js';
import { notRunKeyword, type NotRunKeyword, type NotRunUse } from './support.js';
import { ConfigReader, StatementReplay, type Statement } from './reader.js';

export interface LoadResult {
  /** undefined when keepalived would not run this config at all (fatal problems, exit 2/6...). */
  readonly config: FrozenConfig | undefined;
  /** The model as far as it was built, even when refused (for `check --print`). */
  readonly partial: FrozenConfig;
  /** Every diagnostic, in the order found (including `info` ones keepalived -t does not print). */
  readonly diagnostics: readonly Diagnostic[];
  /** `keepalived -t`'s exit code for this config: 0, 2, 5 or 6. */
  readonly exitCode: number;
}

export interface LoadOptions {
  /** Treat every include as `includea` (keepalived -e). */
  readonly allConfig?: boolean;
  /** Replace some of DEFAULT_LOAD_LIMITS (tests use small ones). */
  readonly limits?: Partial<LoadLimits>;
  /** The main file must be a regular file (the daemon: a FIFO could block its loader). */
  readonly mainRegularOnly?: boolean;
  /**
   * Also refuse what vrrpd's runtime cannot run yet (runtime-support.ts), as `vrrpd run`, reload and
   * `vrrpd check` do. Off: keepalived's own verdict only (the oracle and round-trip tests).
   */
  readonly runtimeSupport?: boolean;
}

export function loadConfig(file: string, host: ConfigHost, opts: LoadOptions = {}): LoadResult {
  const limits = loadLimits(opts.limits);
  const diags = new Diagnostics(limits.maxDiagnostics);
  const st = newParseState(host, diags, file);
  const statements: Statement[] = [];
  const reader = new ConfigReader(
    {
      host,
      diags,
      limits,
      record: statements,
      ...(opts.allConfig ? { allConfig: true } : {}),
      ...(opts.mainRegularOnly ? { mainRegularOnly: true } : {}),
    },
    file,
  );
  st.setRandomSeed = (s) => reader.setRandomSeed(s);
  let stopped = false;
  // the first use of each keyword vrrpd does not run, and how many more (bounded by the table)
  const notRun = new Map<NotRunKeyword, NotRunUse>();
  const observe = (block: string, words: readonly string[], stmt: Statement): void => {
    const row = notRunKeyword(block, words);
    if (row === undefined) return;
    const seen = notRun.get(row);
    if (seen === undefined) notRun.set(row, { row, file: stmt.file, line: stmt.line, more: 0 });
    else seen.more++;
  };
  try {
    new Dispatcher(reader, diags, observe).run(rootKeywords(st));
    st.config.files = [...reader.files];
    const limit = reader.stoppedBy;
    if (limit) {
      // a limit ended the read: the blocks still open were closed by the end of input, and what
      // they report (a missing VRID...) is about text never read; the limit is the last message
      const at = diags.list.indexOf(limit);
      if (at >= 0) diags.list.splice(at + 1);
      else diags.list.push(limit);
      stopped = true;
    } else {
      completeConfig(st);
      // a config keepalived refuses already says why; otherwise, what vrrpd cannot run yet
      if (opts.runtimeSupport && !diags.hasFatal()) {
        for (const d of notRunDiagnostics([...notRun.values()])) diags.add(d, true);
        for (const d of runtimeRefusals(st.config.instances)) diags.add(d, true);
        for (const d of runtimeWarnings(st.config.instances)) diags.add(d, true);
      }
    }
  } catch (e) {
    if (!(e instanceof MissingParameterStop)) throw e;
    stopped = true;
  }
  if (!stopped) addOtherPassDiagnostics(statements, diags);
  if (diags.dropped > 0) {
    diags.list.push({
      file: '',
      line: 0,
      severity: 'warning',
      exitClass: 'none',
      message: `${diags.dropped} more diagnostics not shown (${LIMIT_NAMES.maxDiagnostics} ${limits.maxDiagnostics})`,
    });
  }
  const exitCode = exitCodeFor(diags.list);
  const partial = deepFreeze(st.config);
  const refused = stopped || diags.list.some((d) => d.severity === 'fatal' || d.exitClass === 'no-config');
  return { config: refused ? undefined : partial, partial, diagnostics: diags.list, exitCode };
}

/** Messages about the file's block structure, which keepalived's other passes report too. */
const STRUCTURAL = /^(Unknown keyword |Unexpected '\{'|Extra '\}'|Missing '\{'|There are \d+ missing|Unterminated quote|Unmatched quote)/;

/**
 * keepalived parses the file once per process (parent, checker, vrrp, bfd); the non-VRRP passes skip
 * VRRP blocks by brace counting and so report a misplaced brace from their own point of view (e.g.
 * every line of a block whose `{` is missing becomes an unknown root keyword). vrrpd dispatches the
 * statements of its one read once more the same way and adds those structural messages, each once.
 * (The reader's own messages, such as a missing `}`, were made by the first pass already.)
 */
function addOtherPassDiagnostics(statements: readonly Statement[], diags: Diagnostics): void {
  const other = new Diagnostics(diags.maxKept);
  try {
    new Dispatcher(new StatementReplay(statements), other).run(otherPassRootKeywords());
  } catch (e) {
    if (!(e instanceof MissingParameterStop)) throw e;
  }
  const seen = new Set(diags.list.map((d) => `${d.file}\0${d.line}\0${d.message}`));
  for (const d of other.list) {
    if (!STRUCTURAL.test(d.message)) continue;
    const key = `${d.file}\0${d.line}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diags.add(d);
  }
}
