/**
 * V8 heap snapshots (`.heapsnapshot`, as written by `--heapsnapshot-signal` or
 * `v8.writeHeapSnapshot()`) read into flat arrays, aggregated by constructor the way Chrome
 * DevTools' "Summary" view does: count, self size and retained size per group. The retained size
 * comes from the dominator tree (Cooper, Harvey and Kennedy's iterative algorithm over the graph
 * from the snapshot's root, weak edges ignored, shortcut edges only from the root), and a group's
 * retained size counts each member not already dominated by another member of the same group.
 * Also per group: how many members were not in an earlier snapshot (by V8's stable node ids),
 * and who retains them (the retainer's group and edge name).
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
    node_count: number;
    edge_count: number;
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A snapshot as typed arrays, one entry per node. */
export interface HeapGraph {
  readonly nodeCount: number;
  /** Group (constructor) index per node, into `groups`. */
  readonly group: Int32Array;
  readonly groups: readonly string[];
  readonly selfSize: Float64Array;
  readonly id: Float64Array;
  /** Edges of node i: firstEdge[i] .. firstEdge[i + 1] - 1. */
  readonly firstEdge: Int32Array;
  readonly edgeTo: Int32Array;
  readonly edgeType: Uint8Array;
  readonly edgeName: readonly string[];
  readonly edgeTypes: readonly string[];
}

/** One group's totals. */
export interface GroupStats {
  readonly name: string;
  count: number;
  selfSize: number;
  retainedSize: number;
  /** Members whose node id was not in the baseline (set by aggregate() when one is given). */
  fresh: number;
  /** Retainers of the members: `RetainerGroup.edge` -> members retained that way (first retainer only). */
  readonly retainers: Map<string, number>;
}

export interface HeapSummary {
  readonly nodeCount: number;
  readonly totalSelfSize: number;
  readonly groups: Map<string, GroupStats>;
  /** Every node id, sorted (to tell fresh objects in a later snapshot). */
  readonly ids: Float64Array;
}

/** How a node is grouped: constructor name for objects, a bracketed kind for V8's internals. */
function groupName(type: string, name: string): string {
  switch (type) {
    case 'object':
      return name;
    case 'closure':
      return `(closure) ${name || 'anonymous'}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'array':
      return name ? `(array) ${name}` : '(array)';
    case 'code':
      return '(compiled code)';
    case 'hidden':
      return `(system) ${name.replace(/\d+/g, 'N')}`;
    case 'native':
      return `(native) ${name.replace(/ \/ .*/, '')}`;
    case 'number':
      return '(heap number)';
    case 'regexp':
      return '(regexp)';
    case 'object shape':
      return '(object shape)';
    default:
      return `(${type})`;
  }
}

/** Parse a snapshot's JSON text. Throws on a file that is not a heap snapshot. */
export function parseHeapSnapshot(text: string): HeapGraph {
  const raw = JSON.parse(text) as RawSnapshot;
  const meta = raw.snapshot?.meta;
  if (!meta || !Array.isArray(raw.nodes) || !Array.isArray(raw.edges)) throw new Error('not a V8 heap snapshot');
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nId = meta.node_fields.indexOf('id');
  const nSelf = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const n = raw.nodes.length / nf;
  const groupIndex = new Map<string, number>();
  const groups: string[] = [];
  const group = new Int32Array(n);
  const selfSize = new Float64Array(n);
  const id = new Float64Array(n);
  const firstEdge = new Int32Array(n + 1);
  let e = 0;
  for (let i = 0; i < n; i++) {
    const base = i * nf;
    const g = groupName(nodeTypes[raw.nodes[base + nType]!] ?? '?', raw.strings[raw.nodes[base + nName]!] ?? '');
    let gi = groupIndex.get(g);
    if (gi === undefined) {
      gi = groups.length;
      groups.push(g);
      groupIndex.set(g, gi);
    }
    group[i] = gi;
    selfSize[i] = raw.nodes[base + nSelf]!;
    id[i] = raw.nodes[base + nId]!;
    firstEdge[i] = e;
    e += raw.nodes[base + nEdges]!;
  }
  firstEdge[n] = e;
  const m = raw.edges.length / ef;
  const edgeTo = new Int32Array(m);
  const edgeType = new Uint8Array(m);
  const edgeName: string[] = new Array<string>(m);
  const elementType = edgeTypes.indexOf('element');
  const hiddenType = edgeTypes.indexOf('hidden');
  for (let j = 0; j < m; j++) {
    const base = j * ef;
    const t = raw.edges[base + eType]!;
    edgeType[j] = t;
    edgeTo[j] = raw.edges[base + eTo]! / nf;
    const nm = raw.edges[base + eName]!;
    edgeName[j] = t === elementType || t === hiddenType ? `[${nm}]` : (raw.strings[nm] ?? String(nm));
  }
  return { nodeCount: n, group, groups, selfSize, id, firstEdge, edgeTo, edgeType, edgeName, edgeTypes };
}

/** Immediate dominator of every node (root 0 is its own; unreachable nodes: -1). */
export function dominators(g: HeapGraph): { idom: Int32Array; postorder: Int32Array } {
  const n = g.nodeCount;
  const weak = g.edgeTypes.indexOf('weak');
  const shortcut = g.edgeTypes.indexOf('shortcut');
  const essential = (from: number, edge: number): boolean => {
    const t = g.edgeType[edge]!;
    return t !== weak && (t !== shortcut || from === 0);
  };
  // Iterative DFS from the root: postorder numbers.
  const post = new Int32Array(n).fill(-1);
  const order = new Int32Array(n);
  const visited = new Uint8Array(n);
  const stackNode = new Int32Array(n);
  const stackEdge = new Int32Array(n);
  let count = 0;
  stackNode[0] = 0;
  stackEdge[0] = g.firstEdge[0]!;
  visited[0] = 1;
  let sp = 1;
  while (sp > 0) {
    const v = stackNode[sp - 1]!;
    const ei = stackEdge[sp - 1]!;
    if (ei < g.firstEdge[v + 1]!) {
      stackEdge[sp - 1] = ei + 1;
      const w = g.edgeTo[ei]!;
      if (!visited[w] && essential(v, ei)) {
        visited[w] = 1;
        stackNode[sp] = w;
        stackEdge[sp] = g.firstEdge[w]!;
        sp++;
      }
      continue;
    }
    post[v] = count;
    order[count++] = v;
    sp--;
  }
  // Predecessors (essential edges between reachable nodes), CSR.
  const predCount = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (post[v] === -1) continue;
    for (let ei = g.firstEdge[v]!; ei < g.firstEdge[v + 1]!; ei++)
      if (essential(v, ei) && post[g.edgeTo[ei]!] !== -1) predCount[g.edgeTo[ei]! + 1]!++;
  }
  for (let i = 0; i < n; i++) predCount[i + 1]! += predCount[i]!;
  const preds = new Int32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (post[v] === -1) continue;
    for (let ei = g.firstEdge[v]!; ei < g.firstEdge[v + 1]!; ei++) {
      const w = g.edgeTo[ei]!;
      if (essential(v, ei) && post[w] !== -1) preds[fill[w]!++] = v;
    }
  }
  // Cooper-Harvey-Kennedy on postorder numbers.
  const idomPost = new Int32Array(count).fill(-1);
  const rootPost = post[0]!;
  idomPost[rootPost] = rootPost;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (a < b) a = idomPost[a]!;
      while (b < a) b = idomPost[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let k = count - 2; k >= 0; k--) {
      const v = order[k]!;
      let best = -1;
      for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
        const u = post[preds[p]!]!;
        if (idomPost[u] === -1) continue;
        best = best === -1 ? u : intersect(u, best);
      }
      if (best !== -1 && idomPost[k] !== best) {
        idomPost[k] = best;
        changed = true;
      }
    }
  }
  const idom = new Int32Array(n).fill(-1);
  for (let k = 0; k < count; k++) idom[order[k]!] = order[idomPost[k]!]!;
  return { idom, postorder: order.slice(0, count) };
}

/**
 * Count, self and retained size per group; `baselineIds` (a sorted earlier summary's ids) marks
 * members that are new since then.
 */
export function aggregate(g: HeapGraph, baselineIds?: Float64Array): HeapSummary {
  const { idom, postorder } = dominators(g);
  const n = g.nodeCount;
  const retained = Float64Array.from(g.selfSize);
  for (const v of postorder) {
    const d = idom[v]!;
    if (d !== v && d >= 0) retained[d]! += retained[v]!;
  }
  const groups = new Map<string, GroupStats>();
  const stats: GroupStats[] = g.groups.map((name) => ({ name, count: 0, selfSize: 0, retainedSize: 0, fresh: 0, retainers: new Map() }));
  let total = 0;
  for (let v = 0; v < n; v++) {
    const s = stats[g.group[v]!]!;
    s.count++;
    s.selfSize += g.selfSize[v]!;
    total += g.selfSize[v]!;
    if (baselineIds && !hasId(baselineIds, g.id[v]!)) s.fresh++;
  }
  // Group retained size: walk the dominator tree keeping, per group, how many of its members are
  // on the path from the root; a member counts only when none is above it.
  const childCount = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) if (idom[v]! >= 0 && idom[v] !== v) childCount[idom[v]! + 1]!++;
  for (let i = 0; i < n; i++) childCount[i + 1]! += childCount[i]!;
  const children = new Int32Array(childCount[n]!);
  const fill = childCount.slice(0, n);
  for (let v = 0; v < n; v++) if (idom[v]! >= 0 && idom[v] !== v) children[fill[idom[v]!]!++] = v;
  const onPath = new Int32Array(g.groups.length);
  const stack: number[] = [0];
  const exiting = new Uint8Array(n);
  while (stack.length > 0) {
    const v = stack[stack.length - 1]!;
    const gi = g.group[v]!;
    if (exiting[v]) {
      stack.pop();
      onPath[gi]!--;
      continue;
    }
    exiting[v] = 1;
    if (onPath[gi] === 0) stats[gi]!.retainedSize += retained[v]!;
    onPath[gi]!++;
    for (let c = childCount[v]!; c < childCount[v + 1]!; c++) stack.push(children[c]!);
  }
  // Retainers: the first non-weak edge into each node, by the retainer's group and edge name.
  const weak = g.edgeTypes.indexOf('weak');
  const seen = new Uint8Array(n);
  for (let v = 0; v < n; v++) {
    for (let ei = g.firstEdge[v]!; ei < g.firstEdge[v + 1]!; ei++) {
      const w = g.edgeTo[ei]!;
      if (seen[w] || g.edgeType[ei] === weak) continue;
      seen[w] = 1;
      // Array slots and numbered internals by kind, not by index: `Map.[]`, not one key per slot.
      const edge = g.edgeName[ei]!;
      const key = `${g.groups[g.group[v]!]}.${/^\[?\d+\]?$/.test(edge) ? '[]' : edge}`;
      const r = stats[g.group[w]!]!.retainers;
      r.set(key, (r.get(key) ?? 0) + 1);
    }
  }
  for (const s of stats) groups.set(s.name, s);
  return { nodeCount: n, totalSelfSize: total, groups, ids: Float64Array.from(g.id).sort() };
}

function hasId(sorted: Float64Array, id: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = sorted[mid]!;
    if (x === id) return true;
    if (x < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Read and aggregate a snapshot file. */
export function summarizeFile(path: string, baselineIds?: Float64Array): HeapSummary {
  return aggregate(parseHeapSnapshot(readFileSync(path, 'utf8')), baselineIds);
}

/** One group's change between two snapshots. */
export interface GroupDiff {
  readonly name: string;
  readonly count: [number, number];
  readonly selfSize: [number, number];
  readonly retainedSize: [number, number];
  /** Members of the later snapshot that were not in the earlier one. */
  readonly fresh: number;
  /** Top retainers in the later snapshot (key, members). */
  readonly retainers: readonly [string, number][];
}

export interface HeapDiff {
  readonly nodes: [number, number];
  readonly totalSelfSize: [number, number];
  /** Groups sorted by growth (retained size, then self size, then count), growing first. */
  readonly groups: readonly GroupDiff[];
}

/** Compare two summaries (`b` aggregated with `a.ids` as baseline for `fresh`). */
export function diffSummaries(a: HeapSummary, b: HeapSummary): HeapDiff {
  const names = new Set([...a.groups.keys(), ...b.groups.keys()]);
  const out: GroupDiff[] = [];
  for (const name of names) {
    const x = a.groups.get(name);
    const y = b.groups.get(name);
    out.push({
      name,
      count: [x?.count ?? 0, y?.count ?? 0],
      selfSize: [x?.selfSize ?? 0, y?.selfSize ?? 0],
      retainedSize: [x?.retainedSize ?? 0, y?.retainedSize ?? 0],
      fresh: y?.fresh ?? 0,
      retainers: [...(y?.retainers ?? new Map<string, number>())].sort((p, q) => q[1] - p[1]).slice(0, 3),
    });
  }
  const growth = (d: GroupDiff): [number, number, number] => [
    d.retainedSize[1] - d.retainedSize[0],
    d.selfSize[1] - d.selfSize[0],
    d.count[1] - d.count[0],
  ];
  out.sort((p, q) => {
    const [r1, s1, c1] = growth(p);
    const [r2, s2, c2] = growth(q);
    return r2 - r1 || s2 - s1 || c2 - c1;
  });
  return { nodes: [a.nodeCount, b.nodeCount], totalSelfSize: [a.totalSelfSize, b.totalSelfSize], groups: out };
}

function kib(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}

function signed(n: number, f: (x: number) => string = String): string {
  return `${n > 0 ? '+' : ''}${f(n)}`;
}

/**
 * The diff as a Markdown table: groups whose count, self or retained size grew, largest retained
 * growth first (at most `top`), then the totals. Sizes in KiB.
 */
export function formatHeapDiff(d: HeapDiff, top = 25): string {
  // The synthetic roots retain everything: not a finding.
  const grew = d.groups.filter(
    (g) => g.name !== '(synthetic)' && (g.count[1] > g.count[0] || g.selfSize[1] > g.selfSize[0] || g.retainedSize[1] > g.retainedSize[0]),
  );
  const l = [
    `heap: ${d.nodes[0]} -> ${d.nodes[1]} objects, self size ${kib(d.totalSelfSize[0])} -> ${kib(d.totalSelfSize[1])} KiB (${signed(d.totalSelfSize[1] - d.totalSelfSize[0], kib)})`,
    '',
    '| constructor | count | Δ count | self KiB | Δ self | retained KiB | Δ retained | new since first | top retainers (later snapshot) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const g of grew.slice(0, top)) {
    l.push(
      `| ${g.name.replace(/\|/g, '\\|').slice(0, 60)} | ${g.count[0]} -> ${g.count[1]} | ${signed(g.count[1] - g.count[0])} | ${kib(g.selfSize[1])} | ${signed(g.selfSize[1] - g.selfSize[0], kib)} | ${kib(g.retainedSize[1])} | ${signed(g.retainedSize[1] - g.retainedSize[0], kib)} | ${g.fresh} | ${g.retainers.map(([k, v]) => `${k.replace(/\|/g, '\\|').slice(0, 50)} x${v}`).join('; ')} |`,
    );
  }
  if (grew.length === 0) l.push('| (nothing grew) | | | | | | | | |');
  else if (grew.length > top) l.push(`| ... ${grew.length - top} more groups grew | | | | | | | | |`);
  return l.join('\n');
}
