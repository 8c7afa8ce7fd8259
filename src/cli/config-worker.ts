/**
 * Worker-thread entry of the off-thread config loader (config-loader.ts): for each request posted to
 * it, runs loadConfig() with the real host and posts the LoadResult back (structured clone), or only
 * its LoadSummary when the request says so. Nothing else: the loader terminates the thread on a
 * timeout, and when it has been idle for a moment.
 */
import { parentPort } from 'node:worker_threads';
import { nodeConfigHost } from '../host/config-host.js';
import { loadConfig } from '../config/load.js';
import { loadSummary, type LoadRequest } from './config-loader.js';

parentPort?.on('message', (m: { id: number; req: LoadRequest }) => {
  const { id, req } = m;
  const host = nodeConfigHost({ hostChecks: req.hostChecks ?? true, ...(req.configId !== undefined ? { configId: req.configId } : {}) });
  const result = loadConfig(req.file, host, {
    ...(req.allConfig ? { allConfig: true } : {}),
    ...(req.mainRegularOnly ? { mainRegularOnly: true } : {}),
    ...(req.limits ? { limits: req.limits } : {}),
    ...(req.runtimeSupport ? { runtimeSupport: true } : {}),
  });
  parentPort?.postMessage({ id, result: req.summaryOnly === true ? loadSummary(result) : result });
});
