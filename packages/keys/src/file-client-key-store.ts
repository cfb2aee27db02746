import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseClientKeyRecord, type ClientKeyRecord } from './client-key.ts';
import { byCreation, type ClientKeyStore } from './client-key-store.ts';

interface Contents {
  readonly text: string;
  readonly records: readonly ClientKeyRecord[];
  readonly byHash: ReadonlyMap<string, ClientKeyRecord>;
}

interface Snapshot extends Contents {
  /** Identity and version of the file read (device, inode, size, mtime), or `missing`. */
  readonly signature: string;
  readonly readAtMs: number;
}

const EMPTY: Contents = { text: '', records: [], byHash: new Map() };

/**
 * File timestamps tick coarsely (a few ms on ext4), inodes are reused and an editor may keep the mtime, so a change of
 * equal size can look unchanged to `stat`. A snapshot older than this is read again even when `stat` says nothing changed: a revocation
 * is seen within this long plus one gateway re-check, whatever the file system.
 */
const STAT_TRUSTED_MS = 1000;

/**
 * Client keys in a JSON file (the embedded mode's CLIENT_KEYS_FILE): `{"version":1,"keys":[…records…]}`. Only the
 * keys' hashes are in it. Every write goes to a temporary file (mode 0600) that is then renamed over the old one,
 * so a reader sees the old file or the new one, never half of one. Every read first looks at the file's inode,
 * size and times (one `stat`) and reads it again when they changed, or when its copy is over a second old: a relay
 * that is running sees `hookway keys add/revoke` at its next lookup, with no watcher to lose. A missing file means no keys; a file that
 * does not parse makes every call fail with a message naming the file and the problem.
 */
export class FileClientKeyStore implements ClientKeyStore {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  /** Writes of this instance, one after another (each reads the file, changes it and renames a new one over it). */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async add(record: ClientKeyRecord): Promise<boolean> {
    return this.serially(async () => {
      const records = (await this.readNow()).records;
      if (records.some((r) => r.name === record.name)) return false;
      if (records.some((r) => r.hash === record.hash)) throw new Error(`${this.path}: a key with the same hash exists`);
      await this.write([...records, record]);
      return true;
    });
  }

  async list(): Promise<readonly ClientKeyRecord[]> {
    return (await this.current()).records;
  }

  async revoke(name: string): Promise<boolean> {
    return this.serially(async () => {
      const records = (await this.readNow()).records;
      const kept = records.filter((r) => r.name !== name);
      if (kept.length === records.length) return false;
      await this.write(kept);
      return true;
    });
  }

  async findByHash(hash: string): Promise<ClientKeyRecord | undefined> {
    return (await this.current()).byHash.get(hash);
  }

  async close(): Promise<void> {
    this.snapshot = undefined;
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const result = this.writes.then(change);
    this.writes = result.catch(() => undefined);
    return result;
  }

  /** The file as of now, read again only when it changed; concurrent callers share one read. */
  private async current(): Promise<Snapshot> {
    this.loading ??= this.refresh().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async refresh(): Promise<Snapshot> {
    const signature = await this.signature();
    const now = Date.now();
    const cached = this.snapshot;
    if (cached?.signature === signature && now - cached.readAtMs < STAT_TRUSTED_MS) return cached;
    const contents = signature === 'missing' ? EMPTY : await this.parseFile(cached);
    this.snapshot = { signature, readAtMs: now, ...contents };
    return this.snapshot;
  }

  /** Writers start from what is on disk, not from a snapshot. */
  private async readNow(): Promise<Contents> {
    return (await this.signature()) === 'missing' ? EMPTY : this.parseFile(undefined);
  }

  private async signature(): Promise<string> {
    try {
      const s = await stat(this.path, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (err) {
      if (isMissing(err)) return 'missing';
      throw new Error(`cannot read client keys from ${this.path}: ${reason(err)}`);
    }
  }

  /** The file's keys; when its text is what `previous` was read from, that is reused without parsing again. */
  private async parseFile(previous: Contents | undefined): Promise<Contents> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (isMissing(err)) return EMPTY;
      throw new Error(`cannot read client keys from ${this.path}: ${reason(err)}`);
    }
    if (previous !== undefined && previous.text === text) return previous;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not valid JSON (it is written by \`hookway keys\`; restore it or remove it)`);
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error(`${this.path}: expected {"version":1,"keys":[…]}`);
    const byHash = new Map<string, ClientKeyRecord>();
    const names = new Set<string>();
    for (const [index, entry] of keys.entries()) {
      const record = parseClientKeyRecord(entry);
      if (typeof record === 'string') throw new Error(`${this.path}, key ${index + 1}: ${record}`);
      if (names.has(record.name)) throw new Error(`${this.path}, key ${index + 1}: the name ${record.name} is used twice`);
      names.add(record.name);
      byHash.set(record.hash, record);
    }
    return { text, records: [...byHash.values()].sort(byCreation), byHash };
  }

  /** Temporary file in the same directory (so rename is atomic), mode 0600, flushed, then renamed over the file. */
  private async write(records: readonly ClientKeyRecord[]): Promise<void> {
    const text = `${JSON.stringify({ version: 1, keys: records }, null, 2)}\n`;
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const file = await open(tmp, 'wx', 0o600);
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new Error(`cannot write client keys to ${this.path}: ${reason(err)}`);
    }
    this.snapshot = undefined;
  }
}

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'its directory does not exist';
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return 'permission denied';
  return e instanceof Error ? e.message : String(err);
}
