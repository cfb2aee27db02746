// The attacker of stalled-bodies.ts, in a process of its own (as a real attacker is): it opens CONNECTIONS TCP
// connections from LOCAL_ADDRESS to PORT, each POSTing /webhook?secret=<anything> with Content-Length BODY_BYTES, writes
// all but the last byte and stalls. Over IPC it says {type:'written'} once every connection has handed its bytes to the
// kernel (or was closed), answers {type:'closed', lines} once the server has closed them all, and leaves on 'leave'.
import { connect } from 'node:net';

const port = Number(process.env.PORT);
const count = Number(process.env.CONNECTIONS);
const bodyBytes = Number(process.env.BODY_BYTES);
const localAddress = process.env.LOCAL_ADDRESS;

const head = Buffer.from(
  `POST /webhook?secret=AttackerSecret0123 HTTP/1.1\r\nHost: hookway\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`,
);
// One buffer for every connection.
const body = Buffer.alloc(bodyBytes - 1, 0x20);

const attackers = Array.from({ length: count }, () => {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (text) => (received += text));
  socket.on('error', () => {});
  const closed = new Promise((resolve) => socket.once('close', () => resolve(received.split('\r\n')[0] ?? '')));
  const written = new Promise((resolve) => {
    socket.once('close', resolve);
    socket.write(head);
    socket.write(body, resolve);
  });
  return { socket, closed, written };
});
process.send({ type: 'started' });
Promise.all(attackers.map((a) => a.written)).then(() => process.send({ type: 'written' }));

process.on('message', (message) => {
  if (message === 'await-close') Promise.all(attackers.map((a) => a.closed)).then((lines) => process.send({ type: 'closed', lines }));
  if (message === 'leave') {
    for (const a of attackers) a.socket.destroy();
    Promise.all(attackers.map((a) => a.closed)).then(() => process.disconnect());
  }
});
