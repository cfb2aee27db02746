import { Writable } from 'node:stream';

/** A writable stream that keeps every chunk written to it as one string: a logger destination for tests. */
export function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { stream, lines };
}
