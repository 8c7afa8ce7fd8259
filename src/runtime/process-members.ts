/**
 * Which processes count for which vrrp_track_process block, kept per pid while the kernel's process
 * events drive track_process (src/runtime/track-process.ts; docs/keepalived-behaviour.md 2.8): a
 * fork copies the parent's blocks to the child, an exec or a comm change sets the process's blocks
 * anew, an exit removes it. A block's count is the number of its pids.
 */
export class ProcessMembers {
  readonly #byBlock = new Map<string, Set<number>>();
  readonly #byPid = new Map<number, Set<string>>();

  /** How many processes count for `block`. */
  count(block: string): number {
    return this.#byBlock.get(block)?.size ?? 0;
  }

  /** The blocks `pid` counts for (empty when none). */
  blocksOf(pid: number): readonly string[] {
    return [...(this.#byPid.get(pid) ?? [])];
  }

  /** Is `pid` tracked at all? */
  has(pid: number): boolean {
    return this.#byPid.has(pid);
  }

  /** How many pids are tracked (bounded by the scans and the events that feed it). */
  get size(): number {
    return this.#byPid.size;
  }

  /** `block` counts exactly these pids (a scan). */
  reset(block: string, pids: readonly number[]): void {
    this.drop(block);
    for (const pid of pids) this.set(pid, block, true);
  }

  /** Forget `block`. */
  drop(block: string): void {
    for (const pid of this.#byBlock.get(block) ?? []) {
      const s = this.#byPid.get(pid);
      s?.delete(block);
      if (s?.size === 0) this.#byPid.delete(pid);
    }
    this.#byBlock.delete(block);
  }

  /** `pid` counts (or not) for `block`; true when that changed. */
  set(pid: number, block: string, member: boolean): boolean {
    const pids = this.#byBlock.get(block);
    if (member === (pids?.has(pid) ?? false)) return false;
    if (member) {
      if (pids === undefined) this.#byBlock.set(block, new Set([pid]));
      else pids.add(pid);
      const blocks = this.#byPid.get(pid);
      if (blocks === undefined) this.#byPid.set(pid, new Set([block]));
      else blocks.add(block);
      return true;
    }
    pids?.delete(pid);
    const blocks = this.#byPid.get(pid);
    blocks?.delete(block);
    if (blocks?.size === 0) this.#byPid.delete(pid);
    return true;
  }

  /** `pid` ended: the blocks it counted for. */
  remove(pid: number): readonly string[] {
    const blocks = this.blocksOf(pid);
    for (const b of blocks) this.set(pid, b, false);
    return blocks;
  }

  clear(): void {
    this.#byBlock.clear();
    this.#byPid.clear();
  }
}
