/**
 * The real file system as the script check (script-check.ts) sees it. Synchronous: a check is a
 * handful of stat calls, made at config load and right before a script is spawned.
 */
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import type { FsEntry, FsError, FsKind, ScriptFs } from '../config/script-check.js';

function entry(s: Stats): FsEntry {
  let kind: FsKind = 'other';
  if (s.isFile()) kind = 'file';
  else if (s.isDirectory()) kind = 'dir';
  else if (s.isSymbolicLink()) kind = 'symlink';
  return { kind, uid: s.uid, gid: s.gid, mode: s.mode & 0o7777, dev: s.dev, ino: s.ino };
}

const err = (e: unknown): FsError => ({ error: (e as NodeJS.ErrnoException).code ?? String(e) });

/** glibc's confstr(_CS_PATH), keepalived's PATH when its environment has none. */
export const CS_PATH = '/bin:/usr/bin';

export function nodeScriptFs(searchPath: string = process.env.PATH ?? CS_PATH): ScriptFs {
  return {
    searchPath,
    stat(p) {
      try {
        return entry(statSync(p));
      } catch (e) {
        return err(e);
      }
    },
    lstat(p) {
      try {
        return entry(lstatSync(p));
      } catch (e) {
        return err(e);
      }
    },
    realpath(p) {
      try {
        return realpathSync.native(p);
      } catch (e) {
        return err(e);
      }
    },
  };
}
