import { AppSecret } from '@hookway/protocol';
import { BotDirectory, createQqApi } from './bot-directory.ts';
import type { BotRegistry } from './bot-registry.ts';
import { readBotsFile } from './bots-file.ts';

export interface DirectorySettings {
  readonly bots: ReadonlyMap<string, string>;
  readonly botsFile: string;
  readonly qqTokenUrl: string;
  readonly qqApiBase: string;
}

/** The bot directory from BOTS, BOTS_FILE and the learned bots; `onSecret` sees every secret and token it holds. */
export function directoryFromConfig(settings: DirectorySettings, registry: BotRegistry, onSecret: (value: string) => void): BotDirectory {
  const configured = new Map<string, AppSecret>();
  for (const [appid, secret] of settings.bots) configured.set(appid, AppSecret.of(secret));
  if (settings.botsFile !== '') for (const [appid, secret] of readBotsFile(settings.botsFile)) configured.set(appid, AppSecret.of(secret));
  for (const secret of configured.values()) onSecret(secret.reveal());
  return new BotDirectory(configured, registry, createQqApi({ tokenUrl: settings.qqTokenUrl, apiBase: settings.qqApiBase }), onSecret);
}
