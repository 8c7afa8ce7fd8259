/**
 * keepalived's own sample configs and the cloud vendors' original deployment files are not part of the
 * repository. A checkout that has a copy names its folder in VRRPD_KEEPALIVED_CORPUS, with the samples in
 * `keepalived-samples/` and the vendors' files in `scenarios/`: the config tests then also run on them,
 * as extra cases (test/fixtures/config-cases/samples.expected.txt holds keepalived's output for them).
 * No test needs it; without it each test says which extra cases it did not make.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CORPUS_ENV = 'VRRPD_KEEPALIVED_CORPUS';

/** The corpus folder named by VRRPD_KEEPALIVED_CORPUS, or undefined when it is not set. */
export function keepalivedCorpus(): string | undefined {
  const dir = process.env[CORPUS_ENV];
  return dir === undefined || dir === '' ? undefined : resolve(dir);
}

/** One sub-folder of the corpus (`keepalived-samples`, `scenarios`) when it is there. */
export function corpusDir(sub: 'keepalived-samples' | 'scenarios'): string | undefined {
  const dir = keepalivedCorpus();
  return dir !== undefined && existsSync(join(dir, sub)) ? join(dir, sub) : undefined;
}

/** Why the extra cases of `sub` are not made, for a test's comment. */
export function corpusAbsent(sub: string): string {
  const dir = keepalivedCorpus();
  return dir === undefined ? `${CORPUS_ENV} is not set` : `${join(dir, sub)} is absent`;
}
