export { BotDirectory, createQqApi, type BotIdentity, type QqApi } from './bot-directory.ts';
export { type BotRegistry, MemoryBotRegistry, RedisBotRegistry, openBotRegistry } from './bot-registry.ts';
export { readBotsFile } from './bots-file.ts';
export { directoryFromConfig, type DirectorySettings } from './from-config.ts';
