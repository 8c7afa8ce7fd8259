#!/usr/bin/env node
// Bundles the compiled daemon (dist/, from `tsc -p tsconfig.json`) into dist/bundle/ with esbuild:
// one file per thread entry, main.js (bin/vrrpd's) and config-worker.js (the config loader's
// thread, which config-loader.js finds beside itself), and one file per module the code imports
// on demand (`vrrpd status`, the demo, prom-client, nodemailer, the YAML printer...), so what a
// command never uses is still never loaded. Node then reads a handful of files instead of
// resolving and compiling ~200 modules at every start (BENCHMARKS.md, "Footprint").
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

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { main: join(ROOT, 'dist/cli/main.js'), 'config-worker': join(ROOT, 'dist/cli/config-worker.js') },
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
  legalComments: 'none',
  logLevel: 'warning',
});
