// The fastest a Node TLS server can answer on this machine, for the server
// suite's context: node:tls with the same certificate, answering every
// connection's first chunk with a fixed UpdateId(0) frame and closing.
// No decoding, no password, no limits. Prints {"port": N}.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:tls';

const [certPath, keyPath] = process.argv.slice(2);
const answer = Buffer.from([0, 0, 0, 2, 1, 0]); // u32 length 2, Response::UpdateId(0)
const server = createServer({ cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.2' }, (socket) => {
  socket.on('error', () => {});
  socket.once('data', () => socket.end(answer));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.on('end', () => process.exit(0)).resume(); // exits with its parent
