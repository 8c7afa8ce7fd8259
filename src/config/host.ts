/**
 * What the config loader needs from the machine. The loader itself is pure; `nodeConfigHost()` in
 * host-node.ts gives the real one, tests give in-memory ones.
 */
export interface FileStat {
  readonly isFile: boolean;
  /** Any x bit set (keepalived skips executable config files). */
  readonly executable: boolean;
}

export interface InterfaceFacts {
  readonly name: string;
  readonly loopback: boolean;
  readonly multicast: boolean;
}

export interface ScriptFileFacts {
  /** Resolved real path. */
  readonly path: string;
  readonly exists: boolean;
  readonly executable: boolean;
  /** Path components (the file and each parent directory) that a non-root user can write. */
  readonly unsafe: readonly { path: string; uid: number; mode: number }[];
}

export interface ConfigHost {
  /** File bytes, or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** glob(3) with GLOB_BRACE, relative patterns resolved against `cwd`; sorted; [] when nothing matches. */
  glob(pattern: string, cwd: string): string[];
  stat(path: string): FileStat | undefined;
  /** Interfaces of the running host; undefined = don't check (pure parsing, e.g. YAML generation). */
  interfaces?(): ReadonlyMap<string, InterfaceFacts> | undefined;
  /** Resolve a script's command (PATH search, realpath) and judge it; undefined = don't check. */
  scriptFile?(cmd: string): ScriptFileFacts | undefined;
  /** Does this user exist (for script_user default `keepalived_script`)? */
  userExists?(name: string): boolean;
  /** The working directory relative paths are resolved against (`${_PWD}` is absolute in keepalived). */
  cwd?(): string;
  /** keepalived's config id (`-i`), default: host name up to the first dot. */
  readonly configId?: string;
  /** Seed for ${_RANDOM}; deterministic when given. */
  readonly randomSeed?: number;
}
