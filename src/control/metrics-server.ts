/**
 * The HTTP endpoint of `--metrics-listen HOST:PORT`: `GET /metrics` in Prometheus' text format
 * (metrics.ts), nothing else. It runs on the daemon's event loop but off its advert path: a scrape
 * costs one shared status snapshot and one shared render (both rate-bounded), never a queue item
 * of its own, and every connection is bounded (count, header size, time), so a slow or hostile
 * scraper holds a socket, not the daemon.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Log } from '../log.js';
import type { Metrics } from './metrics.js';

/** Connections open at once; more are refused by the kernel's accept being closed at once. */
export const METRICS_MAX_CONNECTIONS = 16;
/** A request's headers must arrive within this. */
export const METRICS_HEADERS_TIMEOUT_MS = 5_000;
/** A whole request within this. */
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;
/** An idle kept-alive connection is closed after this. */
export const METRICS_KEEPALIVE_TIMEOUT_MS = 5_000;
/** Largest request head accepted (bytes). */
export const METRICS_MAX_HEADER_BYTES = 8 * 1024;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface MetricsServerOptions {
  readonly listen: ListenAddress;
  readonly metrics: Metrics;
  readonly log: Log;
}

export class MetricsServer {
  readonly #o: MetricsServerOptions;
  readonly #server: Server;
  #errorsLogged = 0;

  constructor(o: MetricsServerOptions) {
    this.#o = o;
    this.#server = createServer(
      {
        maxHeaderSize: METRICS_MAX_HEADER_BYTES,
        requestTimeout: METRICS_REQUEST_TIMEOUT_MS,
        headersTimeout: METRICS_HEADERS_TIMEOUT_MS,
        keepAliveTimeout: METRICS_KEEPALIVE_TIMEOUT_MS,
      },
      (req, res) => this.#handle(req, res),
    );
    this.#server.maxConnections = METRICS_MAX_CONNECTIONS;
    this.#server.on('clientError', (_e, sock) => sock.destroy());
  }

  /** Listen; rejects with the reason (address in use, not an address of this host...). */
  start(): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.#o.listen.host, port: this.#o.listen.port, ipv6Only: false }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (e) => this.#logError(e));
        const a = this.#server.address();
        resolve(typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : this.#o.listen);
      });
    });
  }

  close(): void {
    this.#server.close();
    this.#server.closeAllConnections();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('vrrpd: metrics are at /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    this.#o.metrics.render().then(
      (text) => {
        if (res.destroyed) return;
        res.writeHead(200, { 'Content-Type': this.#o.metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        this.#logError(e);
        if (!res.destroyed) res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be rendered\n');
      },
    );
  }

  /** The first few errors are logged, then one line per 100 (a broken scraper must not flood the log). */
  #logError(e: unknown): void {
    const n = ++this.#errorsLogged;
    if (n <= 5 || n % 100 === 0) this.#o.log.warn({ errors: n }, `metrics endpoint: ${e instanceof Error ? e.message : String(e)}`);
  }
}
