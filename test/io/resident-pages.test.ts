/**
 * Clean file pages handed back (io/resident-pages.ts; issue 16, resident memory): only private,
 * read-only mappings of regular files with no written page; in a real process, VmRSS falls and the
 * process runs on.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { droppableMappings } from '../../src/io/resident-pages.js';

const entry = (head: string, rss: number, anon: number, dirty = anon): string =>
  `${head}\nSize:               64 kB\nRss:                ${rss} kB\nPss:                ${rss} kB\nPrivate_Dirty:      ${dirty} kB\nAnonymous:          ${anon} kB\nLocked:                0 kB\nVmFlags: rd mr mw me\n`;

t.test('droppableMappings keeps only clean, private, read-only file mappings', async (t) => {
  const smaps = [
    entry('00400000-00b6f000 r--p 00000000 fe:00 260689                             /usr/bin/node', 5948, 0),
    entry('00b72000-025fe000 r-xp 00772000 fe:00 260689                             /usr/bin/node', 16632, 0),
    // RELRO: relocated (written) then made read-only: its pages are the process's own
    entry('0563a000-0563e000 r--p 05239000 fe:00 260689                             /usr/bin/node', 16, 16),
    entry('0563e000-0565d000 rw-p 0523d000 fe:00 260689                             /usr/bin/node', 124, 40),
    entry('0565d000-0568a000 rw-p 00000000 00:00 0', 100, 100),
    entry('7f0000000000-7f0000100000 r--s 00000000 00:05 1234                       /dev/zero', 8, 0),
    entry('7f0000200000-7f0000300000 r-xp 00000000 00:01 99                         /memfd:jit (deleted)', 8, 0),
    entry('7f0000400000-7f0000500000 r--p 00000000 fe:00 77                         /usr/lib/x.so', 0, 0),
    entry('7f0000600000-7f0000700000 r-xp 00000000 00:00 0                          [vdso]', 8, 0),
    entry('7f0000800000-7f0000900000 r--s 00000000 fe:00 78                         /usr/lib/shared.bin', 8, 0),
    entry('7f0000a00000-7f0000b00000 r-xp 00000000 fe:00 79                         /usr/lib/libc.so.6', 900, 0, 4),
    entry('7fff00000000-7fff00100000 r-xp 014c4000 fe:00 260689                     /usr/bin/node', 576, 0),
  ].join('');
  t.same(
    droppableMappings(smaps).map((m) => [m.start.toString(16), m.end.toString(16), m.rssKiB]),
    [
      ['400000', 'b6f000', 5948],
      ['b72000', '25fe000', 16632],
      ['7fff00000000', '7fff00100000', 576],
    ],
    'the node binary text and read-only data, and its remapped builtins; nothing written, shared, anonymous, a device or empty',
  );
});

t.test('in a process: VmRSS falls, the process runs on', async (t) => {
  // a child of its own: what it drops is its own, and it must live on (its code is faulted back)
  const code = `
    import { readFileSync } from 'node:fs';
    import { spawnSync } from 'node:child_process';
    const { dropCleanFilePages } = await import(${JSON.stringify(new URL('../../src/io/resident-pages.ts', import.meta.url).href)});
    const kib = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const before = kib('RssFile');
    const r = dropCleanFilePages();
    const after = kib('RssFile');
    // code that needs the dropped pages back: the compiler, a child process, a regular expression
    const sum = Array.from({ length: 20000 }, (_, i) => i).reduce((a, b) => a + b, 0);
    const echo = spawnSync('/bin/echo', ['ok'], { encoding: 'utf8' }).stdout.trim();
    console.log(JSON.stringify({ r, before, after, sum, echo, re: /a(b+)c/.exec('xabbbc')[1] }));
  `;
  const out = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  t.equal(out.status, 0, `the child ends well: ${out.stderr}`);
  const j = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as {
    r: { mappings: number; kib: number } | null;
    before: number;
    after: number;
    sum: number;
    echo: string;
    re: string;
  };
  t.ok(j.r !== null && j.r.mappings > 0, `mappings dropped: ${JSON.stringify(j.r)}`);
  t.ok(j.after < j.before - 5 * 1024, `RssFile ${j.before} -> ${j.after} KiB`);
  t.same([j.sum, j.echo, j.re], [199990000, 'ok', 'bbb'], 'and it computes, spawns and matches after');
});

t.test("trimMalloc: free pages inside malloc's main arena go back to the kernel", async (t) => {
  // a child of its own: 8 MiB of 1 KiB blocks malloc'd on the main thread (the main arena), written,
  // then freed, all but the last one, which keeps the arena's top from shrinking by itself
  const code = `
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const koffi = createRequire(import.meta.url)('koffi');
    const libc = koffi.load('libc.so.6');
    const malloc = libc.func('uintptr_t malloc(size_t)');
    const memset = libc.func('uintptr_t memset(uintptr_t, int, size_t)');
    const free = libc.func('void free(uintptr_t)');
    const { trimMalloc } = await import(${JSON.stringify(new URL('../../src/io/resident-pages.ts', import.meta.url).href)});
    const kib = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    const blocks = Array.from({ length: 8192 }, () => { const p = malloc(1024); memset(p, 1, 1024); return p; });
    for (const p of blocks.slice(0, -1)) free(p);
    const before = kib();
    const released = trimMalloc();
    const after = kib();
    free(blocks.at(-1));
    console.log(JSON.stringify({ released, before, after }));
  `;
  const out = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  t.equal(out.status, 0, `the child ends well: ${out.stderr}`);
  const j = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { released: boolean | null; before: number; after: number };
  t.equal(j.released, true, 'malloc_trim says it released memory');
  t.ok(j.after < j.before - 6 * 1024, `RssAnon ${j.before} -> ${j.after} KiB (8 MiB freed in the arena)`);
});
