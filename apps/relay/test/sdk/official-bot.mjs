// An unchanged qq-official-bot (zhinjs) started with HTTPS_PROXY pointing at Hookway (README: qq-official-bot).
// Prints one JSON line per thing the test waits for. Env: APPID, SECRET.
import { Bot, ReceiverMode } from 'qq-official-bot';

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const bot = new Bot({
  appid: process.env.APPID,
  secret: process.env.SECRET,
  intents: ['GROUP_AND_C2C_EVENT', 'PUBLIC_GUILD_MESSAGES'],
  mode: ReceiverMode.WEBSOCKET,
  logLevel: 'warn',
});
const onMessage = (kind) => async (event) => {
  print({ message: event.raw_message, kind });
  try {
    await event.reply(`pong ${event.raw_message}`);
    print({ replied: event.raw_message });
  } catch (err) {
    print({ replyFailed: String(err?.message ?? err) });
  }
};
bot.on('message.group', onMessage('group'));
bot.on('message.private', onMessage('private'));
bot.on('message.guild', onMessage('guild'));
await bot.start();
print({ ready: true });
