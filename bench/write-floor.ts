/**
 * The floor under fan-out's CPU per frame, outside any server: this process (core 0) holds N loopback TCP connections
 * to a sink process (core 1: reads into one shared buffer and drops the bytes) and writes to every connection in
 * turn, ROUNDS times with a short pause between (the receivers go back to sleep, as between two events of fan-out B).
 * Each write carries K frames of FRAME_BYTES (one event ≈ 620 bytes on the wire), K = 1, 2, 4, 8, 16: one write per
 * frame is today's fan-out at low rates; several frames per write is what a round carrying several events does.
 * Measured with `process.cpuUsage()` around the writes only (user and system µs per frame), two ways:
 *
 *   socket  `net.Socket.write(buf)` (node's Writable → libuv → write(2)), as Hookway and bench/ceiling.ts write
 *   fd      `fs.writeSync(fd, buf)`: write(2) alone on the socket's descriptor, no stream machinery
 *
 *   node --import tsx bench/write-floor.ts        CLIENTS=2000 ROUNDS=50 FRAME_BYTES=620 PAUSE_MS=10
 */
import { fork } from 'node:child_process';
import { writeSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { hasTaskset, pinPid } from './processes.ts';

if (process.argv.includes('--sink')) {
  // Reads and drops (the bytes are counted only to keep the reads honest).
  let bytes = 0;
  const server = createServer((socket) => socket.on('data', (chunk: Buffer) => (bytes += chunk.length)));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
  process.on('message', (m: { bytes?: boolean }) => m.bytes && process.send!({ bytes }));
} else {
  const clientCount = Number(process.env.CLIENTS ?? 2000);
  const rounds = Number(process.env.ROUNDS ?? 50);
  const frameBytes = Number(process.env.FRAME_BYTES ?? 620);
  const pauseMs = Number(process.env.PAUSE_MS ?? 10);
  const batches = (process.env.FRAMES_PER_WRITE ?? '1,2,4,8,16').split(',').map(Number);

  if (hasTaskset) pinPid(process.pid, 0);
  const sink = fork(new URL(import.meta.url).pathname, ['--sink'], { execArgv: ['--import', 'tsx'] });
  if (hasTaskset) pinPid(sink.pid!, 1);
  const port = await new Promise<number>((resolve) => sink.once('message', (m: { port: number }) => resolve(m.port)));
  const sockets: Socket[] = [];
  for (let i = 0; i < clientCount; i += 200) {
    sockets.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(200, clientCount - i) }, () => {
          const s = connect(port, '127.0.0.1');
          s.setNoDelay(true);
          return new Promise<Socket>((resolve) => s.once('connect', () => resolve(s)));
        }),
      )),
    );
  }
  const fdOf = (s: Socket) => (s as unknown as { _handle: { fd: number } })._handle.fd;
  const pause = () => new Promise((r) => setTimeout(r, pauseMs));
  let fellBack = 0;

  async function measure(how: 'socket' | 'fd', framesPerWrite: number): Promise<{ user: number; system: number }> {
    const buf = Buffer.alloc(frameBytes * framesPerWrite, 0x61);
    let user = 0;
    let system = 0;
    for (let r = 0; r < rounds; r++) {
      await pause();
      const before = process.cpuUsage();
      if (how === 'socket') for (const s of sockets) s.write(buf);
      else
        for (const s of sockets) {
          let written = 0;
          try {
            written = writeSync(fdOf(s), buf);
          } catch {
            // EAGAIN
          }
          if (written < buf.length) {
            fellBack++;
            s.write(buf.subarray(written));
          }
        }
      const used = process.cpuUsage(before);
      user += used.user;
      system += used.system;
    }
    const frames = rounds * sockets.length * framesPerWrite;
    return { user: user / frames, system: system / frames };
  }

  await measure('socket', 1); // warm-up
  const rows: string[] = [];
  for (const k of batches) {
    for (const how of ['socket', 'fd'] as const) {
      const { user, system } = await measure(how, k);
      rows.push(
        `${how.padEnd(6)} ${String(k).padStart(2)} frames/write: ${(user + system).toFixed(2)} µs/frame (user ${user.toFixed(2)} / sys ${system.toFixed(2)})`,
      );
      process.stdout.write(`${rows.at(-1)}\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ clients: sockets.length, rounds, frameBytes, pauseMs, fellBack, pinned: hasTaskset })}\n`);
  for (const s of sockets) s.destroy();
  sink.kill();
}
