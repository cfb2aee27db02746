export { BotDirectory, createQqApi, type BotIdentity, type QqApi } from './bot-directory.ts';
export { type BotRegistry, MemoryBotRegistry, RedisBotRegistry, openBotRegistry } from './bot-registry.ts';
export { readBotsFile } from './bots-file.ts';
export { directoryFromConfig, type DirectorySettings } from './from-config.ts';
export {
  createOpenApiCaller,
  type CallOpenApi,
  type CallingBot,
  type OpenApiAnswer,
  type OpenApiCallRequest,
  type OpenApiCallerOptions,
} from './openapi-caller.ts';
export {
  type ActivityNotes,
  type BotActivity,
  type BotActivityRecorder,
  type BotStanding,
  MemoryBotActivity,
  NO_STANDING,
  RedisBotActivity,
  ThrottledActivity,
  openBotActivity,
} from './bot-activity.ts';
