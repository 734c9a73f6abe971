import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:tls';
import { createInterface } from 'node:readline';
import { createSelfSignedCertificate } from '../src/index.ts';

const { cert, key } = await createSelfSignedCertificate();
writeFileSync('/tmp/explore/root.pem', cert);
const conns: { bytes: number; announced: number }[] = [];
const server = createServer({ cert, key }, (s) => {
  const c = { bytes: 0, announced: -1 };
  conns.push(c);
  s.on('data', (d: Buffer) => { if (c.bytes === 0) c.announced = d.readUInt32BE(0); c.bytes += d.length; });
  setTimeout(() => s.destroy(), 1000);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as any).port;
const child = spawn('/work/main/fixtures/target/release/syncstate-fixtures', ['client', '--port', String(port), '--cert', '/tmp/explore/root.pem', '--password', 'pw']);
const rl = createInterface({ input: child.stdout });
const waiting: ((l: string) => void)[] = [];
rl.on('line', (l) => waiting.shift()!(l));
const send = (c: object) => new Promise<string>((r) => { waiting.push(r); child.stdin.write(JSON.stringify(c) + '\n'); });
// The Rust client sends GetUpdateId first; we answer nothing → error. So send_event is the direct way: needs frozen map... use raw freeze error.
const pairs = Array.from({ length: 10000 }, (_, i) => [`key-${String(i).padStart(5, '0')}`, `value-${i}`]);
await send({ op: 'new', id: 'x', pairs: [['a', '1']] });
await send({ op: 'freeze', id: 'x' });
await send({ op: 'send_event', id: 'x', event: { SetMany: pairs } });
console.log(conns);
child.stdin.end();
server.close();
process.exit(0);
