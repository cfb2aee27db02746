import type { Bus } from '@hookway/bus';
import { BotDirectory, createQqApi } from './bot-directory.ts';
import { readBotsFile } from './bots-file.ts';

export interface DirectorySettings {
  readonly bots: ReadonlyMap<string, string>;
  readonly botsFile: string;
  readonly qqTokenUrl: string;
  readonly qqApiBase: string;
}

/** The bot directory from BOTS, BOTS_FILE and the bus's learned bots; `onSecret` sees every secret and token it holds. */
export function directoryFromConfig(
  settings: DirectorySettings,
  bus: Pick<Bus, 'knownBots' | 'rememberBot'>,
  onSecret: (value: string) => void,
): BotDirectory {
  const configured = new Map(settings.bots);
  if (settings.botsFile !== '') for (const [appid, secret] of readBotsFile(settings.botsFile)) configured.set(appid, secret);
  for (const secret of configured.values()) onSecret(secret);
  return new BotDirectory(configured, bus, createQqApi({ tokenUrl: settings.qqTokenUrl, apiBase: settings.qqApiBase }), onSecret);
}
