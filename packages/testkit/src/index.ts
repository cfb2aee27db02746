export * from './events.ts';
export * from './webhook-sender.ts';
export * from './ws-collector.ts';
export * from './line-sink.ts';
export * from './redis-server.ts';
export * from './fake-qq.ts';
export * from './gateway-client.ts';
export * from './wait.ts';
