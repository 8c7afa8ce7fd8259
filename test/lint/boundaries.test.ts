/**
 * The import-boundary rules of eslint.config.js bite: a file placed (virtually, through ESLint's
 * lintText with a path under src/) in one layer and importing a layer it may not is reported, and
 * the import that the layering allows is not. Removing or loosening a rule fails this file.
 * No root, no network; the repository's own config is loaded.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import t from 'tap';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BOUNDARY_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax']);
// The probe files do not exist, so the TypeScript project cannot type them: run the boundary rules
// only, on the syntax alone.
const eslint = new ESLint({
  cwd: ROOT,
  ruleFilter: ({ ruleId }) => BOUNDARY_RULES.has(ruleId),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

/** The boundary messages ESLint reports for `code` as if it were the file `path` (under the repository). */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: join(ROOT, path) });
  if (result === undefined) throw new Error('ESLint returned no result');
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(`parse error: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId) && m.severity === 2).map((m) => m.message);
}

/** [file, code, a fragment of the expected message]: each must be refused. */
const refused: [string, string, string][] = [
  // runtime sees io, host and notify only through runtime/ports
  ['src/runtime/probe.ts', "import { RawTransport } from '../io/raw-transport.js';", 'runtime may not import io'],
  ['src/runtime/probe.ts', "import type { ReceivedPacket } from '../io/raw-transport.js';", 'runtime may not import io'],
  ['src/runtime/probe.ts', "export { RawTransport } from '../io/raw-transport.js';", 'runtime may not import io'],
  ['src/runtime/probe.ts', "import { Notifications } from '../notify/notifications.js';", 'runtime may not import notify'],
  ['src/runtime/probe.ts', "import { nodeUserDb } from '../host/user-db.js';", 'runtime may not import host'],
  ['src/runtime/probe.ts', "const m = await import('../io/raw-transport.js');", 'import() only of a same-folder module'],
  ['src/runtime/probe.ts', "import { RawTransport } from './ports/../../io/raw-transport.js';", 'normalized'],
  ['src/runtime/probe.ts', "import { readFileSync } from 'node:fs';", 'runtime may import only these node modules'],
  ['src/runtime/ports/probe.ts', "import { Instance } from '../instance.js';", 'runtime/ports may not import the rest of runtime'],
  // protocol imports nothing above util, and no node module or package
  ['src/protocol/probe.ts', "import type { FrozenConfig } from '../config/model.js';", 'protocol may not import config'],
  ['src/protocol/probe.ts', "import { createLog } from '../log.js';", 'protocol may not import log.ts'],
  ['src/protocol/probe.ts', "import { join } from 'node:path';", 'protocol may import only these node modules: none'],
  ['src/protocol/probe.ts', "import { parse } from 'yaml';", 'protocol may import only these packages: none'],
  // config imports no io, runtime or node I/O
  ['src/config/probe.ts', "import { readFileSync } from 'node:fs';", 'config may import only these node modules'],
  ['src/config/probe.ts', "import { execFileSync } from 'node:child_process';", 'config may import only these node modules'],
  ['src/config/probe.ts', "import { createServer } from 'node:net';", "only 'isIP', 'isIPv4', and 'isIPv6' are allowed"],
  ['src/config/probe.ts', "import { readFileSync } from 'fs';", "as 'node:fs'"],
  ['src/config/keywords/probe.ts', "import { libc } from '../../io/libc.js';", 'config may not import io'],
  ['src/config/probe.ts', "import { Instance } from '../runtime/instance.js';", 'config may not import runtime'],
  // only io and control open sockets
  ['src/notify/probe.ts', "import { createSocket } from 'node:dgram';", 'Only io/ and control/ open sockets'],
  ['src/notify/probe.ts', "const f = lib.func('int socket(int domain, int type, int protocol)');", 'Only io/ and control/ open sockets'],
  ['src/host/probe.ts', "import { createRequire } from 'node:module';", 'load native modules'],
  // only the composition root builds adapters; adapters do not reach into the runtime
  ['src/control/probe.ts', "import { libc } from '../io/libc.js';", 'control may not import io'],
  ['src/cli/status.ts', "import { RawTransport } from '../io/raw-transport.js';", 'cli may not import io'],
  ['src/io/probe.ts', "import { Instance } from '../runtime/instance.js';", 'io may not import runtime'],
  // product code never imports test/ or bench/
  ['src/runtime/probe.ts', "import { FakeClock } from '../../test/support/fake-clock.js';", 'never imports test/, bench/'],
];

/** Imports the layering allows: none may be refused (the rules are not simply "refuse everything"). */
const allowed: [string, string][] = [
  ['src/runtime/probe.ts', "import type { DaemonIo } from './ports/index.js';"],
  ['src/runtime/probe.ts', "import { createLog } from '../log.js';"],
  ['src/runtime/probe.ts', "import { join } from 'node:path';"],
  ['src/runtime/ports/probe.ts', "import type { FrozenConfig } from '../../config/model.js';"],
  ['src/protocol/probe.ts', "import { checkInt } from '../util/check-int.js';"],
  ['src/config/probe.ts', "import { isIPv4 } from 'node:net';"],
  ['src/config/keywords/probe.ts', "import { parseIpv4 } from '../../protocol/ipv4-address.js';"],
  ['src/io/probe.ts', "import type { HostNetlink } from '../runtime/ports/net.js';"],
  ['src/io/probe.ts', "import { createSocket } from 'node:dgram';"],
  ['src/control/probe.ts', "const f = lib.func('int socket(int domain, int type, int protocol)');"],
  ['src/cli/compose.ts', "import { RawTransport } from '../io/raw-transport.js';"],
  ['src/cli/probe.ts', "const { stringify } = await import('yaml');"],
];

t.test('an import across a boundary is refused with the rule that forbids it', async (t) => {
  for (const [file, code, want] of refused) {
    const errors = await boundaryErrors(file, code);
    t.ok(
      errors.some((m) => m.includes(want)),
      `${file}: ${code}`,
      { found: errors, wanted: want },
    );
  }
});

t.test('an import the layering allows is not refused', async (t) => {
  for (const [file, code] of allowed) {
    t.same(await boundaryErrors(file, code), [], `${file}: ${code}`);
  }
});
