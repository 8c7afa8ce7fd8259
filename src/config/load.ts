/**
 * loadConfig(): keepalived.conf text -> typed, frozen model + diagnostics + keepalived -t exit code.
 * Pure apart from the injected ConfigHost.
 */
import { Diagnostics, MissingParameterStop, exitCodeFor, type Diagnostic } from './diagnostics.js';
import { Dispatcher } from './dispatch.js';
import type { ConfigHost } from './host.js';
import { completeConfig } from './completion.js';
import { newParseState, otherPassRootKeywords, rootKeywords } from './keywords.js';
import { deepFreeze, type FrozenConfig } from './model.js';
import { ConfigReader } from './reader.js';

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
}

export function loadConfig(file: string, host: ConfigHost, opts: LoadOptions = {}): LoadResult {
  const diags = new Diagnostics();
  const st = newParseState(host, diags, file);
  const reader = new ConfigReader({ host, diags, ...(opts.allConfig ? { allConfig: true } : {}) }, file);
  st.setRandomSeed = (s) => reader.setRandomSeed(s);
  let stopped = false;
  try {
    new Dispatcher(reader, diags).run(rootKeywords(st));
    st.config.files = [...reader.files];
    completeConfig(st);
  } catch (e) {
    if (!(e instanceof MissingParameterStop)) throw e;
    stopped = true;
  }
  if (!stopped) addOtherPassDiagnostics(file, host, opts, diags);
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
 * every line of a block whose `{` is missing becomes an unknown root keyword). vrrpd reads the file
 * once more the same way and adds those structural messages, each once.
 */
function addOtherPassDiagnostics(file: string, host: ConfigHost, opts: LoadOptions, diags: Diagnostics): void {
  const other = new Diagnostics();
  const reader = new ConfigReader({ host, diags: other, ...(opts.allConfig ? { allConfig: true } : {}) }, file);
  try {
    new Dispatcher(reader, other).run(otherPassRootKeywords());
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
