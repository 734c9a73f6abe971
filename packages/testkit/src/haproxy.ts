// A real TCP load balancer for the tests: HAProxy (Debian's package, which
// .ci/run installs), in TCP mode, round-robin over the given backends, on a
// free loopback port. Every syncstate request is its own connection, so each
// one may land on a different backend.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, freePort } from './ports.js';

export interface TestBalancer {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startHaproxy(backends: readonly number[]): Promise<TestBalancer> {
  const dir = mkdtempSync(join(tmpdir(), 'syncstate-haproxy-'));
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 1024',
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      'frontend syncstate',
      `  bind 127.0.0.1:${port}`,
      '  default_backend servers',
      'backend servers',
      '  balance roundrobin',
      ...backends.map((p, i) => `  server s${i} 127.0.0.1:${p}`),
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // reported below, as "not listening"
  for (let tries = 0; !(await acceptsConnections(port)); tries++) {
    if (tries > 100 || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`haproxy did not listen on ${port}: ${stderr || 'is haproxy installed? (apt-get install haproxy)'}`);
    }
    await sleep(50);
  }
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
