#!/usr/bin/env node
// Bundles the compiled daemon (dist/, from `tsc -p tsconfig.json`) into dist/bundle/ with esbuild:
// one file per thread entry, main.js (bin/vrrpd's) and config-worker.cjs (the config loader's
// thread, which config-loader.js finds beside itself), and one file per module the code imports
// on demand (`vrrpd status`, the demo, prom-client, nodemailer, the YAML printer...), so what a
// command never uses is still never loaded. Node then reads a handful of files instead of
// resolving and compiling ~200 modules at every start (BENCHMARKS.md, "Footprint").
//
// The worker's entry is one CommonJS file: a worker thread that loads it skips the ES module
// loader and the chunks shared with main.js (~20 ms less from the thread's start to the config
// loaded, on the path to the daemon's first state: BENCHMARKS.md, "Start-up").
//
// The native modules (raw-socket, netlink, koffi) stay outside: each finds its compiled addon
// beside its own files in node_modules; so do the CommonJS packages loaded on demand (below). bin/vrrpd runs the bundle when it is at least as new as
// dist/cli/main.js (a `tsc -p .` after the bundle makes dist/ the newer, and bin/vrrpd runs that).
//
//   node scripts/bundle.mjs [OUTDIR]     (default dist/bundle; `npm run build` runs it)
import { rmSync } from 'node:fs';
import process from 'node:process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ?? join(ROOT, 'dist/bundle');

/** Packages with a compiled addon: loaded from node_modules as they are. */
const NATIVE = ['raw-socket', 'netlink', 'koffi'];
/**
 * CommonJS packages the code loads with `await import()` (metrics, SMTP alerts, `status --yaml`):
 * also loaded from node_modules, by Node, which gives their exports as named exports. Bundled, a
 * CommonJS package split into a file of its own exports `default` alone, so `(await
 * import('prom-client')).Registry` would be undefined. They are loaded only on use, so bundling them
 * would save no start-up time. test/package/bundle.test.ts checks that no file of the bundle is a
 * CommonJS package exported that way.
 */
const ON_DEMAND_COMMONJS = ['prom-client', 'nodemailer', 'yaml'];

/** The worker entry's file name, beside config-loader's code (src/cli/config-loader.ts reads the define). */
const WORKER_FILE = 'config-worker.cjs';

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: join(ROOT, 'dist/cli/main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [...NATIVE, ...ON_DEMAND_COMMONJS],
  // the CommonJS packages bundled in (pino, prom-client, nodemailer...) call require() for Node's
  // own modules: an ES module has none, so each output file gets one
  banner: { js: "import { createRequire as __vrrpdRequire } from 'node:module';\nconst require = __vrrpdRequire(import.meta.url);" },
  define: { __VRRPD_CONFIG_WORKER__: JSON.stringify(`./${WORKER_FILE}`) },
  legalComments: 'none',
  logLevel: 'warning',
});
// the config loader's worker: everything in one CommonJS file (no chunks: esbuild splits ES modules
// only); `import.meta.url` is the file's own URL, as in an ES module
await build({
  entryPoints: [join(ROOT, 'dist/cli/config-worker.js')],
  outfile: join(outdir, WORKER_FILE),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: [...NATIVE, ...ON_DEMAND_COMMONJS],
  define: { 'import.meta.url': '__vrrpdUrl' },
  banner: { js: "const __vrrpdUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});
