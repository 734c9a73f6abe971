// `syncstate serve` as a user runs it: first run in an empty folder, a
// second run reusing what the first made, and the ways it refuses to start.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir } from './helpers/cli.js';

const dir = tempDir('serve');
afterAll(() => dir.remove());

describe('syncstate serve', () => {
  it('creates the data folder on first run: certificate for localhost and 127.0.0.1, private key and password 0600', async () => {
    const serve = await startServe(['--port', '0'], { cwd: dir.path });
    const stopped = await serve.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('stopped');

    const data = join(dir.path, '.syncstate');
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'password')).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(data, 'cert.pem')));
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(data, 'key.pem'))))).toBe(true);

    const password = readFileSync(join(data, 'password'), 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(stopped.stdout).toContain(`password generated and saved in .syncstate/password: ${password}`);
    expect(stopped.stdout).toMatch(/^listening on 127\.0\.0\.1:\d+$/m);
  });

  it('reuses the certificate and password on the next run, and does not print the password again', async () => {
    const data = join(dir.path, '.syncstate');
    const cert = readFileSync(join(data, 'cert.pem'), 'utf8');
    const serve = await startServe(['--port', '0', '--memory'], { cwd: dir.path });
    const stopped = await serve.stop();
    expect(readFileSync(join(data, 'cert.pem'), 'utf8')).toBe(cert);
    expect(stopped.stdout).toContain('password from .syncstate/password');
    expect(stopped.stdout).not.toContain(readFileSync(join(data, 'password'), 'utf8').trim());
  });

  it('takes SYNCSTATE_PASSWORD over the data folder, and says so', async () => {
    const serve = await startServe(['--port', '0', '--memory'], { cwd: dir.path, env: { SYNCSTATE_PASSWORD: 'from-env' } });
    const status = await runCli(['status', '-a', serve.address], { cwd: dir.path, env: { SYNCSTATE_PASSWORD: 'from-env' } });
    const wrong = await runCli(['status', '-a', serve.address], { cwd: dir.path });
    const stopped = await serve.stop();
    expect(stopped.stdout).toContain('password from SYNCSTATE_PASSWORD');
    expect(status).toMatchObject({ code: 0 });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('rejected the password');
  });

  it('does TLS natively (rustls) by default, on node:tls with --transport node; both serve clients', async () => {
    for (const [flags, banner] of [
      [[], 'transport rustls (native TLS on all cores)'],
      [['--transport', 'rustls'], 'transport rustls (native TLS on all cores)'],
      [['--transport', 'node'], 'transport node:tls'],
    ] as const) {
      const serve = await startServe(['--port', '0', '--memory', ...flags], { cwd: dir.path });
      const status = await runCli(['status', '-a', serve.address], { cwd: dir.path });
      const stopped = await serve.stop();
      expect(stopped.stdout.split('\n')).toContain(banner);
      expect(status.code).toBe(0);
    }
    const wrong = await runCli(['serve', '--transport', 'openssl'], { cwd: dir.path });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("argument 'openssl' is invalid");
  });

  it('refuses a port in use with exit code 1 and a hint, without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const result = await runCli(['serve', '--memory', '--port', String(port), '--data', 'never-made'], { cwd: dir.path });
    blocker.close();
    expect(result.code).toBe(1);
    // The one line, and nothing before it: no log line, and no data folder made.
    expect(result.stderr).toMatch(new RegExp(`^syncstate: 127\\.0\\.0\\.1:${port} is already in use \\(another syncstate serve\\?\\): choose another port with --port\\n$`));
    expect(existsSync(join(dir.path, 'never-made'))).toBe(false);
    expect(result.stderr).not.toContain('EADDRINUSE'); // said once, in words, not as a logged error
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a data folder that is a file, or lies under one, in one line', async () => {
    writeFileSync(join(dir.path, 'a-file'), '');
    for (const data of ['a-file', 'a-file/inside']) {
      const result = await runCli(['serve', '--port', '0', '--data', data], { cwd: dir.path });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`syncstate: the data folder ${data} is a file, not a folder (or lies under one): choose another with --data\n`);
    }
  });

  it.each([
    [['--port', 'abc'], /option '-p, --port <port>' argument 'abc' is invalid/],
    [['--max-frame-size', '12 parsecs'], /expected a size like/],
    [['--log-level', 'loud'], /Allowed choices are error, warn, info, debug, silent/],
    [['--cert', 'only-cert.pem'], /--cert and --key go together/],
    [['--hooks', 'missing.mjs'], /--hooks missing.mjs: no such file/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('exits with the usage code 2 for %j', async (args, message) => {
    const result = await runCli(['serve', '--memory', '--port', '0', ...args], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a hooks module without an event schema', async () => {
    writeFileSync(join(dir.path, 'bad-hooks.mjs'), 'export const hooks = [];\n');
    const result = await runCli(['serve', '--memory', '--port', '0', '--hooks', 'bad-hooks.mjs'], { cwd: dir.path });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('`event` must be a @syncstate-ts/codec schema');
  });

  it('prints help that names every command, the environment and the exit codes', async () => {
    const help = await runCli(['--help'], { cwd: dir.path });
    expect(help.code).toBe(0);
    for (const word of ['serve', 'init', 'get', 'set', 'watch', 'status', 'SYNCSTATE_PASSWORD', 'Exit codes:', '5  cannot reach the server']) {
      expect(help.stdout).toContain(word);
    }
    const serveHelp = await runCli(['serve', '--help'], { cwd: dir.path });
    expect(serveHelp.stdout).toContain('--max-frame-size <size>');
    expect(serveHelp.stdout).toContain('Hooks module (--hooks)');
    const none = await runCli([], { cwd: dir.path });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: syncstate');
  });
});
