/**
 * An in-memory file system for the script check (src/config/script-check.ts ScriptFs): directories,
 * files and symbolic links with owners and modes, resolved like the kernel (links followed in every
 * component for stat/realpath, all but the last for lstat). For pure tests; not a test file.
 */
import type { FsEntry, FsError, FsKind, ScriptFs } from '../../src/config/script-check.js';

interface Node {
  kind: FsKind;
  uid: number;
  gid: number;
  mode: number;
  ino: number;
  target?: string;
}

const MAX_LINKS = 40;

export class FakeScriptFs implements ScriptFs {
  readonly #nodes = new Map<string, Node>();
  #ino = 1;
  searchPath = '/usr/bin:/bin';

  constructor() {
    this.#nodes.set('/', { kind: 'dir', uid: 0, gid: 0, mode: 0o755, ino: this.#ino++ });
  }

  /** A directory (and its missing parents, root-owned 0755). */
  dir(p: string, mode = 0o755, uid = 0, gid = 0): this {
    this.#parents(p);
    this.#nodes.set(p, { kind: 'dir', uid, gid, mode, ino: this.#ino++ });
    return this;
  }

  file(p: string, mode = 0o755, uid = 0, gid = 0): this {
    this.#parents(p);
    this.#nodes.set(p, { kind: 'file', uid, gid, mode, ino: this.#ino++ });
    return this;
  }

  link(p: string, target: string, uid = 0): this {
    this.#parents(p);
    this.#nodes.set(p, { kind: 'symlink', uid, gid: 0, mode: 0o777, ino: this.#ino++, target });
    return this;
  }

  /** Change an existing entry (chmod/chown). */
  set(p: string, change: Partial<Pick<Node, 'mode' | 'uid' | 'gid'>>): this {
    const n = this.#nodes.get(p);
    if (!n) throw new Error(`no ${p}`);
    Object.assign(n, change);
    return this;
  }

  remove(p: string): this {
    this.#nodes.delete(p);
    return this;
  }

  #parents(p: string): void {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const d = `/${parts.slice(0, i).join('/')}`;
      if (!this.#nodes.has(d)) this.#nodes.set(d, { kind: 'dir', uid: 0, gid: 0, mode: 0o755, ino: this.#ino++ });
    }
  }

  /** Resolve `p` (absolute or relative to /) following links; `followLast` false = lstat semantics. */
  #resolve(p: string, followLast: boolean): string | FsError {
    let todo = p.split('/').filter(Boolean);
    let cur = '/';
    let hops = 0;
    while (todo.length > 0) {
      const name = todo.shift()!;
      if (name === '.') continue;
      if (name === '..') {
        cur = cur === '/' ? '/' : cur.slice(0, cur.lastIndexOf('/')) || '/';
        continue;
      }
      const dir = this.#nodes.get(cur);
      if (!dir) return { error: 'ENOENT' };
      if (dir.kind !== 'dir') return { error: 'ENOTDIR' };
      const next = cur === '/' ? `/${name}` : `${cur}/${name}`;
      const n = this.#nodes.get(next);
      if (n?.kind === 'symlink' && (todo.length > 0 || followLast)) {
        if (++hops > MAX_LINKS) return { error: 'ELOOP' };
        const t = n.target!;
        todo = [...t.split('/').filter(Boolean), ...todo];
        if (t.startsWith('/')) cur = '/';
        continue;
      }
      cur = next;
    }
    return cur;
  }

  #entry(p: string): FsEntry | FsError {
    const n = this.#nodes.get(p);
    if (!n) return { error: 'ENOENT' };
    return { kind: n.kind, uid: n.uid, gid: n.gid, mode: n.mode, dev: 1, ino: n.ino };
  }

  stat(p: string): FsEntry | FsError {
    const r = this.#resolve(p, true);
    return typeof r === 'string' ? this.#entry(r) : r;
  }

  lstat(p: string): FsEntry | FsError {
    const r = this.#resolve(p, false);
    return typeof r === 'string' ? this.#entry(r) : r;
  }

  realpath(p: string): string | FsError {
    const r = this.#resolve(p, true);
    if (typeof r !== 'string') return r;
    return this.#nodes.has(r) ? r : { error: 'ENOENT' };
  }
}
