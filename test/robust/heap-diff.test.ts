/**
 * The soak's heap comparison (bench/heap-snapshot.ts): dominators and retained sizes on a
 * hand-made snapshot, then two real snapshots of a small Node process that grows one Map between
 * them: the growing constructor, its container and its retainer come out on top.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate, diffSummaries, dominators, formatHeapDiff, parseHeapSnapshot } from '../../bench/heap-snapshot.js';
import { diffFiles } from '../../bench/heap-diff.js';

/** A snapshot in V8's format from (type, name, self) nodes and (from, to, type, name) edges. */
function snapshot(nodes: [string, string, number][], edges: [number, number, string, string][]): string {
  const nodeTypes = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic'];
  const edgeTypes = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
  const strings: string[] = [];
  const str = (s: string): number => {
    const i = strings.indexOf(s);
    return i >= 0 ? i : strings.push(s) - 1;
  };
  const flatNodes: number[] = [];
  nodes.forEach(([type, name, self], i) => {
    flatNodes.push(nodeTypes.indexOf(type), str(name), i * 2 + 1, self, edges.filter((e) => e[0] === i).length, 0, 0);
  });
  const flatEdges: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    for (const e of edges.filter((x) => x[0] === i)) flatEdges.push(edgeTypes.indexOf(e[2]), str(e[3]), e[1] * 7);
  }
  return JSON.stringify({
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
        node_types: [nodeTypes, 'string', 'number', 'number', 'number', 'number', 'number'],
        edge_fields: ['type', 'name_or_index', 'to_node'],
        edge_types: [edgeTypes, 'string_or_number', 'node'],
      },
      node_count: nodes.length,
      edge_count: flatEdges.length / 3,
    },
    nodes: flatNodes,
    edges: flatEdges,
    strings,
  });
}

t.test('dominators and retained sizes on a hand-made graph', async (t) => {
  // root -> A -> C; root -> B -> C (C shared: dominated by root); A -> D (only via A);
  // root -weak-> E (unreachable through essential edges).
  const g = parseHeapSnapshot(
    snapshot(
      [
        ['synthetic', '', 0],
        ['object', 'Alpha', 10],
        ['object', 'Beta', 20],
        ['object', 'Gamma', 40],
        ['object', 'Alpha', 80],
        ['object', 'Eps', 160],
      ],
      [
        [0, 1, 'property', 'a'],
        [0, 2, 'property', 'b'],
        [1, 3, 'property', 'c'],
        [2, 3, 'property', 'c'],
        [1, 4, 'property', 'd'],
        [0, 5, 'weak', 'e'],
      ],
    ),
  );
  const { idom } = dominators(g);
  t.same([...idom], [0, 0, 0, 0, 1, -1]);
  const s = aggregate(g);
  t.match(s.groups.get('Alpha'), { count: 2, selfSize: 90, retainedSize: 90 }, 'the inner Alpha is not counted twice');
  t.match(s.groups.get('Gamma'), { count: 1, retainedSize: 40 });
  t.match(s.groups.get('Beta'), { retainedSize: 20 }, 'a shared child is not retained by one of its holders');
  t.equal(s.groups.get('Gamma')!.retainers.get('Alpha.c'), 1, 'first retainer by group and edge');
});

t.test('a Map that grows between two snapshots of a real process is on top of the diff', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-heap-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = `
    const v8 = require('node:v8');
    class PeerEntryLeak { constructor(i) { this.ip = '10.0.' + (i >> 8) + '.' + (i & 255); this.at = i; } }
    const table = new Map();
    globalThis.table = table;
    for (let i = 0; i < 100; i++) table.set(i, new PeerEntryLeak(i));
    v8.writeHeapSnapshot(${JSON.stringify(join(dir, 'a.heapsnapshot'))});
    for (let i = 100; i < 5100; i++) table.set(i, new PeerEntryLeak(i));
    v8.writeHeapSnapshot(${JSON.stringify(join(dir, 'b.heapsnapshot'))});
  `;
  execFileSync(process.execPath, ['-e', script], { timeout: 60_000 });
  const d = diffFiles(join(dir, 'a.heapsnapshot'), join(dir, 'b.heapsnapshot'));
  const leak = d.groups.find((g) => g.name === 'PeerEntryLeak')!;
  t.same(leak.count, [100, 5100]);
  t.equal(leak.fresh, 5000, 'the 5,000 added since the first snapshot are new');
  t.ok(leak.retainedSize[1] - leak.retainedSize[0] >= 5000 * 16, 'retained size grew');
  t.match(leak.retainers[0]?.[0], /^\(array\)/, "retained by the Map's backing store");
  const map = d.groups.find((g) => g.name === 'Map')!;
  t.ok(map.retainedSize[1] - map.retainedSize[0] >= leak.retainedSize[1] - leak.retainedSize[0], 'the Map retains them');
  const top = d.groups.slice(0, 4).map((g) => g.name);
  t.ok(top.includes('Map') && top.includes('PeerEntryLeak'), `the Map and its entries lead the diff: ${top.join(', ')}`);
  const text = formatHeapDiff(d, 10);
  t.match(text, /\| PeerEntryLeak \| 100 -> 5100 \| \+5000 \|/);
  const same = diffSummaries(
    aggregate(parseHeapSnapshot(snapshot([['synthetic', '', 0]], []))),
    aggregate(parseHeapSnapshot(snapshot([['synthetic', '', 0]], []))),
  );
  t.match(formatHeapDiff(same), /nothing grew/);
});
