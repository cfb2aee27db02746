import { readFileSync } from 'node:fs';

/** Reads `appid:secret` entries (one per line or comma-separated; `#` starts a comment) from BOTS_FILE. */
export function readBotsFile(path: string): Map<string, string> {
  const bots = new Map<string, string>();
  const text = readFileSync(path, 'utf8');
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.replace(/#.*/, '').trim();
    for (const entry of line
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const match = /^(\d{1,20}):([A-Za-z0-9._~-]{6,128})$/.exec(entry);
      if (!match) throw new Error(`BOTS_FILE ${path}, line ${index + 1}: expected appid:secret`);
      bots.set(match[1]!, match[2]!);
    }
  }
  return bots;
}
