// ESLint flat config: typescript-eslint's recommended rules (type-checked on src/), the size limits,
// and the import boundaries that encode the layering (ARCHITECTURE.md). Formatting is Prettier's
// job (eslint-config-prettier, last, turns off every rule that would fight it).
//
// The boundaries are ESLint's own `no-restricted-imports` and `no-restricted-syntax`, generated
// from the LAYERS table below: one block per folder of src/, because a relative specifier only
// names a layer once the importing folder is known ('../io/x.js' from src/runtime is src/io, from
// src/runtime/ports it is src/runtime/io). Flat config does not merge two blocks' options for one
// rule, so every src file gets exactly one generated block with all of its restrictions.
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const ROOT = posix.dirname(fileURLToPath(import.meta.url));

/** Modules that open sockets. Only io/ (raw, packet, netlink) and control/ (the Unix control socket, sd_notify) may. */
const SOCKET_MODULES = ['node:net', 'node:dgram', 'node:http', 'node:https', 'node:http2', 'node:tls'];

/**
 * What each layer may import. Keys are paths under src/ (a folder, or a file at src/'s top);
 * the longest key that contains a file is its layer.
 * - layers: the layers this one may import (itself is always allowed).
 * - node: node built-ins allowed ('*' = all but SOCKET_MODULES unless `sockets`); an entry
 *   `{ name, only }` allows just those named imports.
 * - packages: npm packages allowed.
 */
const LAYERS = {
  util: { layers: [], node: '*', packages: ['koffi'], why: 'util is the bottom: it imports no other layer' },
  'log.ts': { layers: ['util'], node: [], packages: ['pino'], why: 'the root logger' },
  'version.ts': { layers: [], node: [], packages: [], why: 'a constant' },
  protocol: { layers: ['util'], node: [], packages: [], why: 'protocol is pure: it imports nothing above util and no node module' },
  config: {
    layers: ['protocol', 'util'],
    // node:path (posix joins) and node:net's address predicates are pure; no file, socket or process module.
    node: ['node:path', { name: 'node:net', only: ['isIP', 'isIPv4', 'isIPv6'] }],
    packages: ['yaml'],
    why: 'config is pure: the host comes in through config/host.ts, implemented in src/host',
  },
  'runtime/ports': { layers: ['protocol', 'config', 'util'], node: [], packages: [], why: 'the ports are types the runtime owns' },
  runtime: {
    layers: ['runtime/ports', 'protocol', 'config', 'util', 'log.ts'],
    node: ['node:path'],
    packages: [],
    why: 'the runtime sees io, host and notify only through runtime/ports',
  },
  io: {
    layers: ['runtime/ports', 'protocol', 'util', 'log.ts'],
    node: '*',
    sockets: true,
    packages: ['netlink', 'raw-socket', 'nodemailer'],
    why: 'io implements runtime/ports',
  },
  host: {
    layers: ['runtime/ports', 'config', 'util', 'log.ts'],
    node: '*',
    packages: [],
    why: 'host implements runtime/ports and config/host.ts',
  },
  notify: {
    layers: ['host', 'runtime/ports', 'config', 'util', 'log.ts'],
    node: '*',
    packages: [],
    why: 'notify implements runtime/ports',
  },
  control: {
    layers: ['runtime', 'runtime/ports', 'protocol', 'config', 'util', 'log.ts', 'version.ts'],
    node: '*',
    sockets: true,
    packages: ['prom-client'],
    why: 'control serves the daemon over its Unix socket and its metrics over HTTP; it builds no adapter',
  },
  cli: {
    layers: ['control', 'runtime', 'runtime/ports', 'protocol', 'config', 'util', 'log.ts', 'version.ts'],
    node: '*',
    packages: ['yaml'],
    why: 'only the composition root (cli/compose.ts, cli/run.ts, cli/config-worker.ts) builds adapters',
  },
};

/** The composition root: the only files that may import the adapters (io, host, notify). */
const COMPOSITION_ROOT = { files: ['src/cli/compose.ts', 'src/cli/run.ts', 'src/cli/config-worker.ts'], adds: ['io', 'host', 'notify'] };

/** A layer no table entry names (a new folder) may import only util until it is added to LAYERS. */
const UNKNOWN_LAYER = { layers: ['util'], node: [], packages: [], why: 'this folder is not in LAYERS (eslint.config.js): add it' };

const ALL_LAYERS = Object.keys(LAYERS);
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The layer that owns `srcPath` (a path under src/, no leading src/). */
function layerOf(srcPath) {
  return ALL_LAYERS.filter((l) => srcPath === l || srcPath.startsWith(l + '/')).sort((a, b) => b.length - a.length)[0];
}

/** A regex for a relative specifier from folder `dir` (under src/) that names `layer` or a file in it. */
function specifierRegex(dir, layer) {
  let rel = posix.relative(dir, layer);
  if (!rel.startsWith('..')) rel = './' + rel;
  // A file layer ('log.ts') is imported as '…/log.js'; a folder layer as '…/io/x.js'.
  return layer.endsWith('.ts') ? `^${escapeRe(rel.replace(/\.ts$/, '.js'))}$` : `^${escapeRe(rel)}/`;
}

/** The no-restricted-imports and no-restricted-syntax options for files of `layerName` in `dir`. */
function restrictions(dir, layerName, spec) {
  const own = layerName ?? '(unlisted)';
  const patterns = [];
  const paths = [];
  // Layers: forbid every layer this one may not import. A folder below a layer that is itself a
  // layer (runtime/ports under runtime) is checked separately, so check the longest match.
  for (const target of ALL_LAYERS) {
    if (target === layerName || spec.layers.includes(target)) continue;
    // The parent of a sub-layer (runtime for runtime/ports) is handled below: its prefix is '..'.
    if (layerName && layerName.startsWith(target + '/')) continue;
    // io may import runtime/ports but not the rest of runtime: the allowed sub-layer is excepted.
    const regex = specifierRegex(dir, target);
    const allowedSubs = ALL_LAYERS.filter((l) => l.startsWith(target + '/') && (l === layerName || spec.layers.includes(l)));
    const guard = allowedSubs.map((l) => `(?!${specifierRegex(dir, l).slice(1)})`).join('');
    patterns.push({ regex: `^${guard}${regex.slice(1)}`, message: `${own} may not import ${target}: ${spec.why}.` });
  }
  const parent = ALL_LAYERS.find((l) => layerName && layerName.startsWith(l + '/') && !spec.layers.includes(l));
  if (parent) {
    // runtime/ports may not reach into the rest of runtime: from src/runtime/ports, '../x.js' is
    // src/runtime/x.js and '../../config/…' leaves runtime.
    const up = posix.relative(dir, parent);
    const sub = layerName.slice(parent.length + 1);
    const prefix = escapeRe(up) + '/';
    patterns.push({
      regex: `^${prefix}(?!\\.\\./|${escapeRe(sub)}/)`,
      message: `${own} may not import the rest of ${parent}: ${spec.why}.`,
    });
  }
  // Nothing in src/ reaches outside it (test/, bench/, the repository root).
  const srcRootRel = posix.relative(dir, '.');
  patterns.push({
    regex: `^${srcRootRel ? escapeRe(srcRootRel) + '/' : ''}\\.\\./`,
    message: 'Product code (src/) never imports test/, bench/ or anything outside src/.',
  });
  // Specifiers are normalized, so no '../runtime/../io/x.js' slips past the patterns above.
  patterns.push({
    regex: '^\\./\\.|^(\\./)?(\\.\\./)*(.*/)?[^./][^/]*/\\.\\.?(/|$)',
    message: 'Write the import path normalized (no ./.. or x/../ inside it).',
  });

  // Node built-ins: always with the node: prefix; only the allowed ones.
  for (const m of builtinModules.filter((b) => !b.startsWith('_') && !b.startsWith('node:'))) {
    paths.push({ name: m, message: `Import node built-ins as 'node:${m}'.` });
  }
  const nodeNames = spec.node === '*' ? null : spec.node.map((n) => (typeof n === 'string' ? n : n.name));
  if (nodeNames) {
    const alt = nodeNames.map((n) => escapeRe(n.slice('node:'.length))).join('|');
    patterns.push({
      regex: alt ? `^node:(?!(?:${alt})$)` : '^node:',
      message: `${own} may import only these node modules: ${nodeNames.join(', ') || 'none'}: ${spec.why}.`,
    });
    for (const n of spec.node) {
      if (typeof n !== 'string')
        paths.push({ name: n.name, allowImportNames: n.only, message: `${own} may import only ${n.only.join(', ')} from ${n.name}.` });
    }
  }
  if (!spec.sockets) {
    for (const s of SOCKET_MODULES) {
      if (!nodeNames || spec.node.includes(s)) paths.push({ name: s, message: `Only io/ and control/ open sockets (${s}).` });
    }
    // createRequire would load a native socket addon past these rules.
    if (!(layerName === 'util' || layerName === 'io'))
      paths.push({ name: 'node:module', message: 'Only io/ and util/libc.ts load native modules (createRequire).' });
  }
  // npm packages: only the listed ones.
  const pkgAlt = spec.packages.map(escapeRe).join('|');
  const pkgRegex = `^(?![.]|node:)${pkgAlt ? `(?!(?:${pkgAlt})(?:/|$))` : ''}`;
  patterns.push({ regex: pkgRegex, message: `${own} may import only these packages: ${spec.packages.join(', ') || 'none'}.` });

  // esquery's /regex/ cannot hold a '/', even escaped: write it as \x2F.
  const sel = (re) => `/${re.replace(/\//g, '\\x2F')}/`;
  const syntax = [
    // no-restricted-imports does not see import(): allow it only for a same-folder module or an allowed package.
    {
      selector: 'ImportExpression[source.type!="Literal"]',
      message: 'import() takes a literal specifier so the boundary rules can check it.',
    },
    {
      selector: `ImportExpression[source.value=${sel('^(\\.\\./|node:|\\./.*/)')}]`,
      message: 'import() only of a same-folder module or a package; use a static import.',
    },
    {
      selector: `ImportExpression[source.value=${sel(pkgRegex)}]`,
      message: `${own} may import only these packages: ${spec.packages.join(', ') || 'none'}.`,
    },
  ];
  if (!spec.sockets) {
    // A koffi declaration of socket(2) is a socket opened past the module rules.
    syntax.push({ selector: 'Literal[value=/\\bsocket\\s*\\(/]', message: 'Only io/ and control/ open sockets (libc socket()).' });
  }
  return {
    'no-restricted-imports': ['error', { paths, patterns: patterns.map((p) => ({ ...p, caseSensitive: true })) }],
    'no-restricted-syntax': ['error', ...syntax],
  };
}

/** Every folder under src/, relative to src/ ('' for src itself). */
function srcFolders(dir = '') {
  const abs = posix.join(ROOT, 'src', dir);
  const subs = readdirSync(abs, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [dir, ...subs.flatMap((e) => srcFolders(posix.join(dir, e.name)))];
}

function boundaryBlocks() {
  const blocks = [];
  for (const dir of srcFolders()) {
    if (dir === '') {
      // Files at src/'s top are layers of their own (log.ts, version.ts); an unlisted one is UNKNOWN.
      for (const f of readdirSync(posix.join(ROOT, 'src')).filter((n) => n.endsWith('.ts'))) {
        const spec = LAYERS[f] ?? UNKNOWN_LAYER;
        blocks.push({ files: [`src/${f}`], rules: restrictions('.', LAYERS[f] ? f : undefined, spec) });
      }
      continue;
    }
    const layer = layerOf(dir);
    const spec = layer ? LAYERS[layer] : UNKNOWN_LAYER;
    blocks.push({ files: [`src/${dir}/*.ts`], rules: restrictions(dir, layer, spec) });
  }
  for (const f of COMPOSITION_ROOT.files) {
    const dir = posix.dirname(f.slice('src/'.length));
    const layer = layerOf(dir);
    const spec = { ...LAYERS[layer], layers: [...LAYERS[layer].layers, ...COMPOSITION_ROOT.adds] };
    blocks.push({ files: [f], rules: restrictions(dir, layer, spec) });
  }
  return blocks;
}

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'coverage/', '.tap/', 'node_modules/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // Unused names are errors, except those prefixed _ (kept for a signature's shape).
      // A let read by a closure before its one assignment (the daemon's control plane) stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // The type-aware rules (floating promises, misused promises, unsafe any...) on the product only:
  // tests poke at internals on purpose. About 2 s more for `npm run lint`.
  ...tseslint.configs.recommendedTypeCheckedOnly.slice(2).map((c) => ({ ...c, files: ['src/**/*.ts'] })),
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: ROOT } },
    rules: {
      // An async callback where the caller takes a promise (waitFor's probe) needs no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests and benchmarks read replies, private state and JSON they did not type; tsc still checks them.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Their regexes mirror column-aligned output (keepalived's dumps, the status table) space for space.
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-regex-spaces': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Files of one concern and functions that fit on a screen (issue 11). A file or function that
      // stays over says why in an eslint-disable comment.
      'max-lines': ['error', { max: 500, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  ...boundaryBlocks(),
  prettier,
);
