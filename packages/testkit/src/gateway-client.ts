import WebSocket from 'ws';
import { WsCollector } from './ws-collector.ts';

export interface GatewayFrame {
  op: number;
  s?: number;
  t?: string;
  id?: string;
  d?: unknown;
}

/** A hand-driven gateway-protocol client for conformance tests: send payloads, read parsed frames. */
export class GatewayTestClient extends WsCollector {
  static override async connect(url: string, options?: WebSocket.ClientOptions): Promise<GatewayTestClient> {
    const c = new GatewayTestClient(url, options);
    await c.opened;
    return c;
  }

  send(payload: object): void {
    this.ws.send(JSON.stringify(payload));
  }

  parsed(): GatewayFrame[] {
    return this.frames.map((f) => JSON.parse(f) as GatewayFrame);
  }

  /** Waits for `count` frames (see `waitForFrames`) and returns them parsed. */
  async next(count: number, timeoutMs?: number): Promise<GatewayFrame[]> {
    await this.waitForFrames(count, timeoutMs);
    return this.parsed().slice(0, count);
  }

  identify(token: string, intents = (1 << 25) | (1 << 30) | (1 << 12), shard: [number, number] = [0, 1]): void {
    this.send({ op: 2, d: { token, intents, shard, properties: { $os: 'linux' } } });
  }
}
