// npm i ws && HOOKWAY_URL="wss://your-domain/ws?key=<client key>" node raw-client.mjs
import WebSocket from 'ws';

let lastId; // top-level id of the last event handled: the resume cursor
function connect() {
  const url = new URL(process.env.HOOKWAY_URL);
  if (lastId) url.searchParams.set('after', lastId);
  const ws = new WebSocket(url);
  ws.on('message', (data) => {
    const msg = JSON.parse(data);
    if (msg.hookway === 'resume') return msg.recovered || console.warn('events may have been missed');
    if (msg.op !== 0) return; // e.g. {"op":11}, the answer to {"op":1}
    lastId = msg.id;
    console.log(msg.t, JSON.stringify(msg.d));
  });
  ws.on('close', () => setTimeout(connect, 1000 + Math.random() * 2000)); // jittered reconnect, then resume
  ws.on('error', () => {}); // 'close' follows every error
}
connect();
