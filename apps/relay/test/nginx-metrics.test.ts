import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@hookway/testkit';
import { startRelay, type RunningRelay } from './harness.ts';
import { nginxBinary, startNginx, type RunningNginx } from './nginx.ts';

const installed = nginxBinary() !== undefined;
if (!installed && process.env.CI) throw new Error('nginx is not installed: .ci/run should have installed it');

const TOKEN = 'nginx-metrics-token-0123456789';
let nginx: RunningNginx | undefined;
let relay: RunningRelay | undefined;
afterEach(async () => {
  await nginx?.stop();
  await relay?.close();
});

describe.runIf(installed)('GET /metrics behind the shipped nginx (deploy/nginx/hookway.conf)', () => {
  it('is not served through the load balancer, even with the token; the process itself answers it', async () => {
    relay = await startRelay({ metricsToken: TOKEN });
    const port = Number(new URL(relay.baseUrl).port);
    nginx = await startNginx(await freePort(), { ingress: [port], gateway: [port] });
    const bearer = { headers: { authorization: `Bearer ${TOKEN}` } };
    const front = await fetch(`http://127.0.0.1:${nginx.port}/metrics`, bearer);
    expect(front.status).toBe(403);
    expect(await front.json()).toMatchObject({ error: 'metrics_not_proxied' });
    // The rest of the front still reaches Hookway.
    expect((await fetch(`http://127.0.0.1:${nginx.port}/readyz`)).status).toBe(200);
    expect((await fetch(`${relay.baseUrl}/metrics`, bearer)).status).toBe(200);
  });
});
