import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createSelfSignedCertificate } from '../src/index.ts';
import { startKvServer } from '../examples/ts-server.ts';

const { cert, key } = await createSelfSignedCertificate();
writeFileSync('/tmp/explore/root.pem', cert);
const server = await startKvServer({ cert, key, password: 'pw', limits: { idleTimeoutMs: 2000 } });
const port = server.address()!.port;
const child = spawn('/work/main/fixtures/target/release/syncstate-fixtures', ['client', '--port', String(port), '--cert', '/tmp/explore/root.pem', '--password', 'pw']);
const rl = createInterface({ input: child.stdout });
const waiting: ((l: string) => void)[] = [];
rl.on('line', (l) => waiting.shift()!(l));
child.stderr.pipe(process.stderr);
const send = (c: object) => new Promise<string>((r) => { waiting.push(r); child.stdin.write(JSON.stringify(c) + '\n'); });
const t0 = Date.now();
console.log(await send({ op: 'new', id: 'm', pairs: [['a', '1'], ['b', '2']] }));
console.log(await send({ op: 'freeze', id: 'm' }));
console.log(await send({ op: 'send_event', id: 'm', event: { Set: ['a', 'A'] } }));
console.log(await send({ op: 'set_update_id', id: 'm', target: '1' }));
console.log(await send({ op: 'get', id: 'm' }));
console.log(await send({ op: 'set_update_id', id: 'm', target: '5' }));
console.log(await send({ op: 'new', id: 'w', pairs: [['a', '1']], password: 'bad' }));
console.log(await send({ op: 'freeze', id: 'w' }));
console.log(await send({ op: 'set_update_id', id: 'w', target: '1' }));
console.log(await send({ op: 'send_event', id: 'w', event: 'Noop' }));
for (const n of [5000, 6000, 10000]) {
  const pairs = Array.from({ length: n }, (_, i) => [`key-${String(i).padStart(5, '0')}`, `value-${i}`]);
  console.log(n, await send({ op: 'new', id: 'big' + n, pairs }));
  const t = Date.now();
  console.log(n, (await send({ op: 'freeze', id: 'big' + n })).slice(0, 300), Date.now() - t, 'ms');
}
console.log(JSON.stringify(server.metrics()));
child.stdin.end();
await server.close();
