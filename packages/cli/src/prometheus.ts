/**
 * The server's counters (`server.metrics()`, @syncstate-ts/server's
 * MetricsSnapshot) as Prometheus metrics, through prom-client: a Registry of
 * its own, never prom-client's global one, so that nothing outside it is
 * touched (no default metrics, nothing registered process-wide). Each scrape
 * reads one snapshot and every metric reports from it.
 *
 * prom-client's counters only go up by `inc()`: mirroring a counter kept
 * elsewhere means `reset()` then `inc(current value)` at collect time, which
 * keeps the exposition type `counter`.
 */
import type * as Prom from 'prom-client';
import type { MetricsSnapshot, RequestKind, ResponseKind } from '@syncstate-ts/server';

export type PromClient = typeof Prom;

/** What one scrape reports: a server's counters (or the sum of the workers'), and how many processes they come from. */
export interface MetricsReading {
  snapshot: MetricsSnapshot;
  /** Processes whose counters were summed: 1, or the workers of `serve --workers` that answered. */
  processes: number;
}

export interface ServerRegistry {
  readonly contentType: string;
  /** The exposition text of one reading. */
  metrics(reading: MetricsReading): Promise<string>;
}

/** A private registry with the server's metrics, named `syncstate_*`. */
export function serverRegistry(prom: PromClient): ServerRegistry {
  const registry = new prom.Registry();
  const registers = [registry];
  let current: MetricsReading | undefined;
  const read = (): MetricsReading => {
    if (current === undefined) throw new Error('serverRegistry: metrics() sets the reading before collecting');
    return current;
  };

  const counter = (name: string, help: string, value: (s: MetricsSnapshot) => number): void => {
    new prom.Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value(read().snapshot));
      },
    });
  };
  const gauge = (name: string, help: string, value: (r: MetricsReading) => number): void => {
    new prom.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(value(read()));
      },
    });
  };
  const labelledCounter = <L extends string>(name: string, help: string, label: L, values: (s: MetricsSnapshot) => Partial<Record<string, number>>): void => {
    new prom.Counter<L>({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of Object.entries(values(read().snapshot))) this.inc({ [label]: key } as Partial<Record<L, string>>, n ?? 0);
      },
    });
  };

  labelledCounter('syncstate_requests_total', 'Requests decoded, by kind (GetUpdateId, Event, GetDiff, Init); wrong passwords included.', 'kind', (s) => s.requests);
  labelledCounter(
    'syncstate_responses_total',
    'Answers sent, by kind (UpdateId, HashNotFound, EventInProcess, InitSuccess, HashMismatch, Diff, InitFailure, IncorrectPassword).',
    'kind',
    (s) => s.responses,
  );
  labelledCounter(
    'syncstate_errors_total',
    'Failures by code (timeouts, oversized frames, undecodable requests, TLS errors, hook and storage failures...); a code appears once it has happened.',
    'code',
    (s) => s.errors,
  );
  counter('syncstate_received_bytes_total', 'Plaintext bytes read from connections (TLS overhead excluded).', (s) => s.bytesIn);
  counter('syncstate_sent_bytes_total', 'Plaintext bytes written to connections (TLS overhead excluded).', (s) => s.bytesOut);
  counter('syncstate_connections_total', 'Connections accepted (TLS clients open one per request).', (s) => s.connections.total);
  counter('syncstate_rejected_connections_total', 'Connections refused at once because --max-connections were open.', (s) => s.connections.rejected);
  gauge('syncstate_open_connections', 'Connections open now.', (r) => r.snapshot.connections.active);
  gauge('syncstate_loaded_maps', 'Maps loaded in memory (with --workers: the copies all workers hold).', (r) => r.snapshot.maps);
  counter('syncstate_hook_failures_total', 'Event hooks that threw, rejected or timed out.', (s) => s.hookFailures);
  counter('syncstate_init_refusals_total', 'Maps refused by an init hook (answered InitFailure).', (s) => s.initFailures);
  gauge('syncstate_pending_events', 'Events accepted and waiting for, or running, their hooks.', (r) => r.snapshot.eventsPending);
  counter('syncstate_processed_events_total', 'Events whose hooks have all run.', (s) => s.eventsProcessed);
  gauge('syncstate_processes', 'Server processes whose counters are summed here: 1, or the workers of serve --workers that answered.', (r) => r.processes);

  return {
    contentType: registry.contentType,
    async metrics(reading) {
      current = reading;
      try {
        return await registry.metrics();
      } finally {
        current = undefined;
      }
    },
  };
}

/** The counters of several processes (the workers of `serve --workers`), added up. */
export function sumSnapshots(snapshots: readonly MetricsSnapshot[]): MetricsSnapshot {
  const sumRecord = <K extends string>(records: ReadonlyArray<Partial<Record<K, number>>>): Record<K, number> => {
    const total = {} as Record<K, number>;
    for (const record of records) {
      for (const [key, n] of Object.entries(record) as Array<[K, number | undefined]>) total[key] = (total[key] ?? 0) + (n ?? 0);
    }
    return total;
  };
  const sum = (value: (s: MetricsSnapshot) => number): number => snapshots.reduce((total, s) => total + value(s), 0);
  return {
    requests: sumRecord<RequestKind>(snapshots.map((s) => s.requests)),
    responses: sumRecord<ResponseKind>(snapshots.map((s) => s.responses)),
    errors: sumRecord(snapshots.map((s) => s.errors)),
    bytesIn: sum((s) => s.bytesIn),
    bytesOut: sum((s) => s.bytesOut),
    connections: {
      active: sum((s) => s.connections.active),
      total: sum((s) => s.connections.total),
      rejected: sum((s) => s.connections.rejected),
    },
    maps: sum((s) => s.maps),
    hookFailures: sum((s) => s.hookFailures),
    initFailures: sum((s) => s.initFailures),
    eventsPending: sum((s) => s.eventsPending),
    eventsProcessed: sum((s) => s.eventsProcessed),
  };
}
