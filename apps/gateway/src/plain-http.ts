import type { IncomingMessage, ServerResponse } from 'node:http';
import { isWebSocketEndpoint } from '@hookway/protocol';
import { sendJson } from '@hookway/runtime';

/** What a gateway-only process answers to plain HTTP: 426 on its WebSocket endpoints, JSON 404 elsewhere. */
export function answerPlainHttp(req: IncomingMessage, res: ServerResponse): void {
  const isWs = isWebSocketEndpoint(req.url ?? '/');
  const body = isWs
    ? { error: 'upgrade_required', message: 'this is a WebSocket endpoint: connect with ws:// (or wss://), not plain HTTP' }
    : { error: 'not_found', message: 'a gateway serves /ws, /websocket, /healthz and /readyz; webhooks go to an ingress' };
  sendJson(res, isWs ? 426 : 404, body, isWs ? { upgrade: 'websocket' } : {});
}
