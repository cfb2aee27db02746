/** What a test needs of a store connection (`RedisConnection` fits; testkit cannot import it without a cycle). */
export interface ReadyCheckedConnection {
  whenReady(timeoutMs?: number): Promise<boolean>;
  notReadyReason(): string | undefined;
  close(): Promise<void>;
}

/**
 * The one way a test file opens its store connections: `open` builds one, the returned function waits until it is
 * ready (failing with the connection's own reason when it is not, within `readyWithinMs`), and every connection it
 * opened is closed in the file's `afterAll`.
 */
export function readyConnections<A extends unknown[], C extends ReadyCheckedConnection>(
  open: (...args: A) => C,
  afterAll: (fn: () => Promise<void>) => void,
  readyWithinMs: number,
): (...args: A) => Promise<C> {
  const opened: C[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
  });
  return async (...args: A) => {
    const connection = open(...args);
    opened.push(connection);
    if (!(await connection.whenReady(readyWithinMs))) throw new Error(`redis did not become ready: ${connection.notReadyReason()}`);
    return connection;
  };
}
