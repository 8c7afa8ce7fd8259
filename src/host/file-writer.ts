/**
 * The runtime's file writer port (runtime/ports/files.ts) on the one safe writer
 * (util/safe-file.ts: random temp name, O_EXCL|O_NOFOLLOW, fchmod, rename; never follows a link).
 */
import type { FileWriter } from '../runtime/ports/files.js';
import { replaceFile } from '../util/safe-file.js';

export const safeFileWriter: FileWriter = {
  replace: async (path, content, mode) => {
    const r = await replaceFile(path, content, { mode });
    return r.ok ? { ok: true } : { ok: false, error: r.error, code: r.code };
  },
};
