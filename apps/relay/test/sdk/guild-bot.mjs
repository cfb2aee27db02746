// An unchanged qq-guild-bot (the old official Node SDK) with HTTPS_PROXY pointing at Hookway and the AppSecret as
// its token (README: qq-guild-bot). Prints one JSON line per thing the test waits for. Env: APPID, SECRET.
import { createOpenAPI, createWebsocket } from 'qq-guild-bot';

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const config = {
  appID: process.env.APPID,
  token: process.env.SECRET,
  intents: ['PUBLIC_GUILD_MESSAGES', 'DIRECT_MESSAGE'],
  sandbox: false,
};
const api = createOpenAPI(config);
const ws = createWebsocket(config);
ws.on('READY', () => print({ ready: true }));
const onMessage = async (data) => {
  print({ message: data.msg.content, type: data.eventType });
  try {
    const path = data.eventType === 'DIRECT_MESSAGE_CREATE' ? 'directMessageApi' : 'messageApi';
    if (path === 'messageApi')
      await api.messageApi.postMessage(data.msg.channel_id, { content: `pong ${data.msg.content}`, msg_id: data.msg.id });
    else await api.directMessageApi.postDirectMessage(data.msg.guild_id, { content: `pong ${data.msg.content}`, msg_id: data.msg.id });
    print({ replied: data.msg.content });
  } catch (err) {
    print({ replyFailed: String(err?.message ?? err) });
  }
};
ws.on('PUBLIC_GUILD_MESSAGES', onMessage);
ws.on('DIRECT_MESSAGE', onMessage);
