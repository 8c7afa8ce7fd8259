/**
 * Compare two V8 heap snapshots of one process (issue 10 memory over time): what grew between
 * them, by constructor, with counts, self and retained sizes, how many of the later snapshot's
 * objects are new since the first, and who retains them.
 *
 * Usage: node build/bench/heap-diff.js FIRST.heapsnapshot LATER.heapsnapshot [--top 25] [--json FILE]
 * The soak (soak.ts) runs it on its own snapshots; it also works on any two snapshots of one
 * process (`node --heapsnapshot-signal=SIGWINCH`, `v8.writeHeapSnapshot()`).
 */
import { writeFileSync } from 'node:fs';
import { diffSummaries, formatHeapDiff, summarizeFile, type HeapDiff } from './heap-snapshot.js';

/** Read, aggregate and compare two snapshot files (the later one's `fresh` counts against the first). */
export function diffFiles(first: string, later: string): HeapDiff {
  const a = summarizeFile(first);
  const b = summarizeFile(later, a.ids);
  return diffSummaries(a, b);
}

function main(argv: string[]): number {
  const files: string[] = [];
  let top = 25;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (k === '--top') top = Number(argv[++i]);
    else if (k === '--json') json = argv[++i];
    else if (k.startsWith('--')) throw new Error(`unknown option ${k}`);
    else files.push(k);
  }
  if (files.length !== 2) throw new Error('usage: heap-diff FIRST.heapsnapshot LATER.heapsnapshot [--top N] [--json FILE]');
  const d = diffFiles(files[0]!, files[1]!);
  process.stdout.write(`${formatHeapDiff(d, top)}\n`);
  if (json) writeFileSync(json, JSON.stringify(d, null, 2));
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
