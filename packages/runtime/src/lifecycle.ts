import type { Logger } from 'pino';
import type { HealthSource } from './health.ts';

export interface Closeable {
  close(): Promise<void> | void;
}

/**
 * Resources are registered in start order and closed in reverse order under one deadline, so a stuck
 * resource cannot hold the process past it.
 */
export class Lifecycle implements HealthSource {
  private readonly resources: { name: string; resource: Closeable }[] = [];
  private shuttingDown: Promise<boolean> | undefined;

  constructor(private readonly logger: Logger) {}

  register<T extends Closeable>(name: string, resource: T): T {
    this.resources.push({ name, resource });
    return resource;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown !== undefined;
  }

  /** Not ready from the moment shutdown starts, before any resource is touched. */
  notReadyReason(): string | undefined {
    return this.isShuttingDown ? 'shutting down' : undefined;
  }

  stats(): Record<string, number> {
    return {};
  }

  /** Resolves true when everything closed within `deadlineMs`, false when the deadline cut it short. */
  shutdown(deadlineMs: number): Promise<boolean> {
    this.shuttingDown ??= this.closeAll(deadlineMs);
    return this.shuttingDown;
  }

  private async closeAll(deadlineMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
      timer.unref();
    });
    const work = (async () => {
      for (const { name, resource } of [...this.resources].reverse()) {
        const startedMs = Date.now();
        try {
          await resource.close();
          this.logger.debug({ resource: name, tookMs: Date.now() - startedMs }, 'closed');
        } catch (err) {
          this.logger.error({ resource: name, err }, 'close failed');
        }
      }
      return true as const;
    })();
    const finished = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (!finished) this.logger.error({ deadlineMs }, 'shutdown deadline passed; some resources were not closed');
    return finished;
  }
}
