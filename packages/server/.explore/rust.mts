import { createSelfSignedCertificate } from '../src/index.ts';
import { startRustServer } from '../test/helpers/rust.ts';
import { request, rawTls, silentTcp } from '../test/helpers/wire.ts';
import { req, hashOf } from '../test/helpers/fixtures.ts';
import { connect } from 'node:tls';

const { cert, key } = await createSelfSignedCertificate();
const rs = await startRustServer({ cert, key, password: 'pw' });
console.log('port', rs.port, 'rss', rs.rss() >> 20, 'MiB threads', rs.threads());
const pairs: [string, string][] = [['a', '1'], ['b', '2']];
const hash = await hashOf(pairs);
// stuck hash
console.log('mismatch', await request(rs.port, cert, 'pw', await req.init([['a', 'x']], hash)));
console.log('init right', await request(rs.port, cert, 'pw', await req.init(pairs)));
console.log('getUpdateId', await request(rs.port, cert, 'pw', req.getUpdateId(hash)));
// big response
const big: [string, string][] = Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'x'.repeat(100)]);
console.log('init big', await request(rs.port, cert, 'pw', await req.init(big)));
const r = await rawTls(rs.port, cert, (await import('../test/helpers/wire.ts')).frameRequest('pw', req.getDiff(await hashOf(big), 0n, 0n)));
console.log('big diff: announced', r.bytes.readUInt32BE(0), 'received', r.bytes.length - 4, r.outcome);
// oversized alloc
const before = rs.rss();
const s = connect({ host: '127.0.0.1', port: rs.port, ca: cert });
await new Promise((res) => s.once('secureConnect', res));
s.write(Uint8Array.of(0x10, 0, 0, 0)); // 256 MiB
await new Promise((res) => setTimeout(res, 500));
console.log('rss delta after 256 MiB claim', (rs.rss() - before) >> 20, 'MiB');
s.destroy();
await new Promise((res) => setTimeout(res, 300));
console.log('rss after close', (rs.rss() - before) >> 20);
// idle
const t0 = rs.threads();
const idle = await Promise.all(Array.from({ length: 20 }, () => silentTcp(rs.port)));
await new Promise((res) => setTimeout(res, 1500));
console.log('threads delta', rs.threads() - t0, 'open', idle.filter((x) => !x.destroyed).length);
idle.forEach((x) => x.destroy());
// poison: create history on known map
for (let i = 0; i < 3; i++) console.log(await request(rs.port, cert, 'pw', req.event(hash, { type: 'Set', value: ['a', String(i)] })));
await new Promise((res) => setTimeout(res, 100));
console.log('uid', await request(rs.port, cert, 'pw', req.getUpdateId(hash)));
console.log('poison', await request(rs.port, cert, 'pw', req.getDiff(hash, 2n, 1n)));
console.log('after', await request(rs.port, cert, 'pw', req.getUpdateId(hash)));
console.log('after wrong pw', await request(rs.port, cert, 'bad', req.getUpdateId(hash)));
console.log('running', rs.isRunning());
await rs.stop();
// abort on 2^40 string
const rs2 = await startRustServer({ cert, key, password: 'pw' });
console.log('abort', await request(rs2.port, cert, 'pw', { type: 'Init', hash, initData: Uint8Array.of(1, 253, 0, 0, 0, 0, 0, 1, 0, 0) }));
console.log(await Promise.race([rs2.exited, new Promise((r) => setTimeout(() => r('still running'), 2000))]));
await rs2.stop();
// 4 GiB under ulimit
const rs3 = await startRustServer({ cert, key, password: 'pw', addressSpaceKiB: 1 << 20 });
console.log('rs3 up', rs3.isRunning());
console.log('4GiB', await rawTls(rs3.port, cert, Uint8Array.of(0xff, 0xff, 0xff, 0xff), { timeoutMs: 3000 }));
console.log(await Promise.race([rs3.exited, new Promise((r) => setTimeout(() => r('still running'), 2000))]));
await rs3.stop();
process.exit(0);
