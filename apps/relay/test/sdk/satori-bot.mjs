// An unchanged @satorijs/adapter-qq bot (as Koishi runs it), pointed at Hookway with its documented settings.
// Prints one JSON line per thing the test waits for. Env: HOOKWAY (host:port), APPID, SECRET.
import { Context } from '@satorijs/core';
import HTTP from '@cordisjs/plugin-http';
import { QQBot } from '@satorijs/adapter-qq';

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const hookway = process.env.HOOKWAY;
const ctx = new Context();
ctx.plugin(HTTP);
// The adapter asks bots.qq.com for its token; send that request to Hookway, which forwards it (README: Koishi).
ctx.on('http/fetch-init', (url) => {
  if (url.hostname === 'bots.qq.com') {
    url.protocol = 'http:';
    url.host = hookway;
  }
});
ctx.plugin(QQBot, {
  id: process.env.APPID,
  secret: process.env.SECRET,
  token: 'unused',
  type: 'public',
  endpoint: `http://${hookway}/`,
  intents: (1 << 25) | (1 << 30) | (1 << 12),
  protocol: 'websocket',
  retryInterval: 300,
});
ctx.on('login-updated', (session) => print({ login: session.bot.status }));
ctx.on('message', async (session) => {
  print({ message: session.content, platform: session.platform, channel: session.channelId });
  try {
    await session.bot.sendMessage(session.channelId, `pong ${session.content}`, session.guildId, { session });
    print({ replied: session.content });
  } catch (err) {
    print({ replyFailed: String(err?.message ?? err) });
  }
});
await ctx.start();
