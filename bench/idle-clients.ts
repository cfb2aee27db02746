import WebSocket from 'ws';

/**
 * The idle scenario's connection storm, as bench/idle-conns.ts, bench/idle-breakdown.ts and bench/idle-heap-diff.ts
 * make it: `count` raw clients of the bot `secret` (`/ws?secret=`) at `wsBase` (ws://host:port), opened 100 at a time
 * (each batch once all of it is open), without permessage-deflate. `onMessage` hears every frame any of them gets.
 */
export async function openIdleRawClients(
  wsBase: string,
  secret: string,
  count: number,
  onMessage?: (data: Buffer) => void,
): Promise<WebSocket[]> {
  const opened: WebSocket[] = [];
  for (let from = 0; from < count; from += 100) {
    const batch = Array.from({ length: Math.min(100, count - from) }, () => {
      const ws = new WebSocket(`${wsBase}/ws?secret=${secret}`, { perMessageDeflate: false, skipUTF8Validation: true });
      if (onMessage) ws.on('message', onMessage);
      return new Promise<WebSocket>((resolve, reject) => {
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    });
    opened.push(...(await Promise.all(batch)));
  }
  return opened;
}
