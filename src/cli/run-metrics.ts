/**
 * `vrrpd run --metrics-listen`: prom-client and the HTTP endpoint (control/metrics.ts,
 * control/metrics-server.ts), loaded only when asked for.
 */
import type { Log } from '../log.js';
import { Metrics } from '../control/metrics.js';
import { MetricsServer, type ListenAddress } from '../control/metrics-server.js';
import type { ControlPlane } from '../control/plane.js';

export interface MetricsEndpoint {
  readonly metrics: Metrics;
  readonly server: MetricsServer;
}

/**
 * Serve the metrics at `listen`. An address it cannot
 * listen on is logged as an error and the daemon runs on without metrics (they are not VRRP).
 */
export async function startMetrics(listen: ListenAddress, plane: ControlPlane, log: Log): Promise<MetricsEndpoint | undefined> {
  const metrics = await Metrics.create({
    report: () => plane.sharedReport(),
    control: () => plane.controlStats(),
    nowMs: () => Date.now(),
    monoMs: () => performance.now(),
  });
  const server = new MetricsServer({ listen, metrics, log });
  try {
    const at = await server.start();
    log.info({ host: at.host, port: at.port }, `Metrics at http://${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}/metrics`);
    return { metrics, server };
  } catch (e) {
    log.error(
      {},
      `--metrics-listen ${listen.host}:${listen.port}: cannot listen: ${e instanceof Error ? e.message : String(e)}; running without metrics`,
    );
    return undefined;
  }
}
