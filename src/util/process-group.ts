/**
 * Signal a child started with `detached: true` (its own process group) and everything it forked;
 * falls back to the process alone when the group is gone, and ignores a process already gone.
 */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
