// `serve --metrics-port`: the Prometheus exposition and /healthz of a real
// `syncstate serve`, while the real Rust client (the crate's TcpStateRemote,
// through the fixture program) and our TypeScript client make requests whose
// number and kind the test knows, so every counter must move by exactly that
// much. With --workers the endpoint sums the workers; /healthz turns 503 when
// the PostgreSQL the workers use is stopped.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { kinds } from '@syncstate-ts/core';
import { AuthenticationError, HashNotFoundError, TcpStateRemote } from '@syncstate-ts/remote';
import { startPostgres, type TestPostgres } from '@syncstate-ts/testkit/postgres';
import { RustClient } from '@syncstate-ts/testkit/rust';
import { runCli, startServe, tempDir } from './helpers/cli.js';

const dir = tempDir('metrics');
let postgres: TestPostgres | undefined;
afterAll(async () => {
  await postgres?.stop().catch(() => {});
  dir.remove();
});

describe('serve --metrics-port', () => {
  it('counts the requests of real Rust and TypeScript clients, by kind, in Prometheus text format', async () => {
    const serve = await startServe(['--port', '0', '--metrics-port', '0', '--data', 'sqlite', '--log-level', 'error'], { cwd: dir.path });
    const metricsUrl = endpointOf(serve.stdout());
    const pem = readFileSync(join(dir.path, 'sqlite/cert.pem'), 'utf8');
    const password = readFileSync(join(dir.path, 'sqlite/password'), 'utf8').trim();
    const rust = RustClient.start({ port: serve.port, rootCert: pem, password });
    try {
      const health = await get(metricsUrl.replace(/\/metrics$/, '/healthz'));
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: 'ok', listening: serve.address, storage: 'ok' });

      const first = await get(metricsUrl);
      expect(first.status).toBe(200);
      expect(first.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      const before = parseExposition(first.body);
      checkWellFormed(before);
      expect(before.value('syncstate_requests_total{kind="GetUpdateId"}')).toBe(0);
      expect(before.value('syncstate_processes')).toBe(1);

      // The Rust client: freeze a new map (GetUpdateId answered HashNotFound, then Init), ten
      // GetUpdateIds, one event, then GetDiff once the event's hook has run.
      await rust.ok({ op: 'new', id: 'm', pairs: [['color', 'red']] });
      await rust.ok({ op: 'freeze', id: 'm' });
      await rust.ok({ op: 'time', id: 'm', request: 'get-update-id', count: 10 });
      await rust.ok({ op: 'send_event', id: 'm', event: { Set: ['color', 'blue'] } });
      await until(async () => parseExposition((await get(metricsUrl)).body).value('syncstate_processed_events_total') === 1);
      expect(await rust.ok({ op: 'set_update_id', id: 'm', target: '1' })).toEqual({ update_id: '1' });

      // The TypeScript client: three GetUpdateIds of an unknown map, two with a wrong password.
      const remote = (pw: string): TcpStateRemote<string, string> =>
        new TcpStateRemote({ port: serve.port, tls: { ca: pem }, password: pw, key: kinds.string, value: kinds.string });
      const unknown = new Uint8Array(32).fill(7);
      for (let i = 0; i < 3; i++) await expect(remote(password).getUpdateId(unknown)).rejects.toBeInstanceOf(HashNotFoundError);
      for (let i = 0; i < 2; i++) await expect(remote('wrong').getUpdateId(unknown)).rejects.toBeInstanceOf(AuthenticationError);

      // The last request's connection may still be closing: wait until none is open.
      await until(async () => parseExposition((await get(metricsUrl)).body).value('syncstate_open_connections') === 0);
      const after = parseExposition((await get(metricsUrl)).body);
      checkWellFormed(after);
      const moved = (sample: string): number => after.value(sample) - before.value(sample);
      expect({
        GetUpdateId: moved('syncstate_requests_total{kind="GetUpdateId"}'),
        Init: moved('syncstate_requests_total{kind="Init"}'),
        Event: moved('syncstate_requests_total{kind="Event"}'),
        GetDiff: moved('syncstate_requests_total{kind="GetDiff"}'),
      }).toEqual({ GetUpdateId: 1 + 10 + 3 + 2, Init: 1, Event: 1, GetDiff: 1 });
      expect({
        HashNotFound: moved('syncstate_responses_total{kind="HashNotFound"}'),
        InitSuccess: moved('syncstate_responses_total{kind="InitSuccess"}'),
        UpdateId: moved('syncstate_responses_total{kind="UpdateId"}'),
        EventInProcess: moved('syncstate_responses_total{kind="EventInProcess"}'),
        Diff: moved('syncstate_responses_total{kind="Diff"}'),
        IncorrectPassword: moved('syncstate_responses_total{kind="IncorrectPassword"}'),
        HashMismatch: moved('syncstate_responses_total{kind="HashMismatch"}'),
        InitFailure: moved('syncstate_responses_total{kind="InitFailure"}'),
      }).toEqual({ HashNotFound: 1 + 3, InitSuccess: 1, UpdateId: 10, EventInProcess: 1, Diff: 1, IncorrectPassword: 2, HashMismatch: 0, InitFailure: 0 });
      // One connection per request (19), on both clients.
      expect(moved('syncstate_connections_total')).toBe(19);
      expect(moved('syncstate_rejected_connections_total')).toBe(0);
      expect(after.value('syncstate_processed_events_total')).toBe(1);
      expect(after.value('syncstate_pending_events')).toBe(0);
      expect(after.value('syncstate_hook_failures_total')).toBe(0);
      expect(after.value('syncstate_loaded_maps')).toBe(1);
      // Each request is at least its 4-byte length prefix and a 32-byte hash; each answer its prefix and a tag.
      expect(moved('syncstate_received_bytes_total')).toBeGreaterThanOrEqual(19 * 36);
      expect(moved('syncstate_sent_bytes_total')).toBeGreaterThanOrEqual(19 * 5);

      const stopped = await serve.stop();
      expect(stopped.code).toBe(0);
      // The endpoint stops with the server.
      await expect(get(metricsUrl)).rejects.toThrow();
    } finally {
      await rust.close();
      await serve.stop();
    }
  }, 60_000);

  it('refuses a busy metrics port before making anything', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['serve', '--port', '0', '--metrics-port', String(port), '--data', 'never-made'], { cwd: dir.path });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`syncstate: --metrics-port: 127.0.0.1:${port} is already in use: choose another port\n`);
      expect(result.stdout).toBe('');
      expect(existsSync(join(dir.path, 'never-made'))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('with --workers, sums every worker; /healthz is 200, then 503 once their PostgreSQL is stopped', async () => {
    postgres = await startPostgres();
    const url = await postgres.database();
    const serve = await startServe(['--port', '0', '--storage', url, '--workers', '2', '--metrics-port', '0', '--data', 'pg', '--log-level', 'error'], {
      cwd: dir.path,
    });
    const metricsUrl = endpointOf(serve.stdout());
    const healthUrl = metricsUrl.replace(/\/metrics$/, '/healthz');
    try {
      const healthy = await get(healthUrl);
      expect(healthy.status).toBe(200);
      expect(JSON.parse(healthy.body)).toEqual({
        status: 'ok',
        workers: '2 of 2 answered',
        each: [
          { worker: 1, listening: serve.address, storage: 'ok' },
          { worker: 2, listening: serve.address, storage: 'ok' },
        ],
      });

      const pem = readFileSync(join(dir.path, 'pg/cert.pem'), 'utf8');
      const password = readFileSync(join(dir.path, 'pg/password'), 'utf8').trim();
      const remote = new TcpStateRemote({ port: serve.port, tls: { ca: pem }, password, key: kinds.string, value: kinds.string });
      const unknown = new Uint8Array(32).fill(9);
      // Each request is a connection of its own, which the kernel (or the cluster primary) hands to either worker.
      for (let i = 0; i < 24; i++) await expect(remote.getUpdateId(unknown)).rejects.toBeInstanceOf(HashNotFoundError);
      const metrics = parseExposition((await get(metricsUrl)).body);
      checkWellFormed(metrics);
      expect(metrics.value('syncstate_processes')).toBe(2);
      expect(metrics.value('syncstate_requests_total{kind="GetUpdateId"}')).toBe(24);
      expect(metrics.value('syncstate_responses_total{kind="HashNotFound"}')).toBe(24);
      expect(metrics.value('syncstate_connections_total')).toBe(24);

      await postgres.stop();
      postgres = undefined;
      const down = await get(healthUrl);
      expect(down.status).toBe(503);
      const report = JSON.parse(down.body) as { status: string; workers: string; each: Array<{ storage: string }> };
      expect(report.status).toBe('unavailable');
      expect(report.workers).toBe('2 of 2 answered');
      for (const worker of report.each) expect(worker.storage).toMatch(/^failed: /);
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
  }, 120_000);
});

/** The endpoint `serve` printed: "metrics on http://HOST:PORT/metrics (health: /healthz)". */
function endpointOf(stdout: string): string {
  const url = /^metrics on (http:\/\/\S+\/metrics) \(health: \/healthz\)$/m.exec(stdout)?.[1];
  if (url === undefined) throw new Error(`serve printed no metrics line:\n${stdout}`);
  return url;
}

async function get(url: string): Promise<{ status: number; contentType: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

interface Exposition {
  /** name{labels} -> value */
  samples: Map<string, number>;
  help: Map<string, string>;
  type: Map<string, string>;
  value(sample: string): number;
}

/** The Prometheus text format (0.0.4): # HELP, # TYPE and sample lines. */
function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\w+) (.+)$/.exec(line);
    if (m !== null) {
      help.set(m[1]!, m[2]!);
      continue;
    }
    m = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m !== null) {
      type.set(m[1]!, m[2]!);
      continue;
    }
    m = /^(\w+(?:\{(?:\w+="[^"]*",?)*\})?) (-?[0-9.e+]+|NaN|[+-]Inf)$/.exec(line);
    if (m === null) throw new Error(`not a line of the Prometheus text format: ${JSON.stringify(line)}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return {
    samples,
    help,
    type,
    value(sample) {
      const v = samples.get(sample);
      if (v === undefined) throw new Error(`no sample ${sample} in:\n${text}`);
      return v;
    },
  };
}

/** Every sample's metric has HELP and TYPE; counters, and only they, end in _total; all names are syncstate_*. */
function checkWellFormed(e: Exposition): void {
  for (const sample of e.samples.keys()) {
    const name = sample.split('{')[0]!;
    expect(name).toMatch(/^syncstate_[a-z_]+$/);
    expect(e.help.get(name)).toBeTruthy();
    expect(e.type.get(name)).toBe(name.endsWith('_total') ? 'counter' : 'gauge');
  }
  expect([...e.type.keys()].sort()).toEqual([
    'syncstate_connections_total',
    'syncstate_errors_total',
    'syncstate_hook_failures_total',
    'syncstate_init_refusals_total',
    'syncstate_loaded_maps',
    'syncstate_open_connections',
    'syncstate_pending_events',
    'syncstate_processed_events_total',
    'syncstate_processes',
    'syncstate_received_bytes_total',
    'syncstate_rejected_connections_total',
    'syncstate_requests_total',
    'syncstate_responses_total',
    'syncstate_sent_bytes_total',
  ]);
}

/** Polls `check` until it holds (guarded: a stall fails after 20 s). */
async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 20 s');
    await sleep(50);
  }
}
