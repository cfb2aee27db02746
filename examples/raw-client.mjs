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
    if (msg.hookway === 'result') return console.log('reply', msg.id, msg.status ?? msg.error); // the answer to our call
    if (msg.op !== 0) return; // e.g. {"op":11}, the answer to {"op":1}
    lastId = msg.id;
    console.log(msg.t, JSON.stringify(msg.d));
    if (msg.t !== 'GROUP_AT_MESSAGE_CREATE') return;
    // Reply through the same socket; Hookway adds the access token. msg_id + msg_seq make it a passive reply.
    const body = { msg_type: 0, content: `收到：${msg.d.content.trim()}`, msg_id: msg.d.id, msg_seq: 1 };
    const path = `/v2/groups/${msg.d.group_openid}/messages`;
    ws.send(JSON.stringify({ hookway: 'call', id: msg.id, method: 'POST', path, body }));
  });
  ws.on('close', () => setTimeout(connect, 1000 + Math.random() * 2000)); // jittered reconnect, then resume
  ws.on('error', () => {}); // 'close' follows every error
}
connect();
