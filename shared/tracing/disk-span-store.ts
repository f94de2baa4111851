import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TracingWarn } from './tracing-log';

export interface DiskSpanStoreOptions {
  dir: string;
  maxBytes: number;
  maxSpans: number;
  warn: TracingWarn;
}

export interface StoredBatch {
  readonly name: string;
  readonly bytes: number;
  readonly spans: number;
}

interface Entry extends StoredBatch {
  claimed: boolean;
}

// <ms since epoch>-<pid>-<seq>-<span count>.otlp: sortable by age, unique
// across processes sharing the directory, countable without being read.
// A file holds one OTLP protobuf request.
const FILE = /^(\d+)-(\d+)-(\d+)-(\d+)\.otlp$/;
const CLAIMED = /^(\d+-\d+-\d+-\d+\.otlp)\.sending-(\d+)$/;

/**
 * A bounded directory of span batches, one file per batch, oldest first.
 * A file appears atomically (write to `.tmp`, then rename) and is claimed
 * for sending by renaming it to `.sending-<pid>`, so two exporters sharing a
 * directory never send the same file, and a file is deleted only after the
 * collector acknowledged it. Past the limits the oldest batches are dropped
 * with a warning.
 */
export class DiskSpanStore {
  private readonly entries: Entry[] = [];
  private seq = 0;

  constructor(private readonly opts: DiskSpanStoreOptions) {
    fs.mkdirSync(opts.dir, { recursive: true });
    this.recover();
  }

  get spanCount(): number {
    return this.entries.reduce((n, e) => n + e.spans, 0);
  }

  get byteCount(): number {
    return this.entries.reduce((n, e) => n + e.bytes, 0);
  }

  get batchCount(): number {
    return this.entries.length;
  }

  async append(data: Uint8Array, spans: number): Promise<void> {
    const name = `${String(Date.now()).padStart(14, '0')}-${process.pid}-${String(this.seq++).padStart(8, '0')}-${spans}.otlp`;
    const file = path.join(this.opts.dir, name);
    await fs.promises.writeFile(`${file}.tmp`, data);
    await fs.promises.rename(`${file}.tmp`, file);
    this.entries.push({ name, bytes: data.length, spans, claimed: false });
    await this.enforceLimits();
  }

  /** Claim the oldest unclaimed batch for sending; undefined when there is none. */
  async claimOldest(): Promise<StoredBatch | undefined> {
    for (const entry of [...this.entries]) {
      if (entry.claimed) continue;
      // Marked before the rename so that the limit enforcement cannot drop it meanwhile.
      entry.claimed = true;
      try {
        await fs.promises.rename(this.pathOf(entry.name), this.claimedPath(entry));
        return entry;
      } catch (err) {
        if (!isNotFound(err)) {
          entry.claimed = false;
          throw err;
        }
        this.forget(entry); // claimed or dropped by another process sharing the directory
      }
    }
    return undefined;
  }

  async read(batch: StoredBatch): Promise<Buffer> {
    return fs.promises.readFile(this.claimedPath(batch));
  }

  /** The collector acknowledged it (or it can never be sent): delete it. */
  async remove(batch: StoredBatch): Promise<void> {
    await fs.promises.rm(this.claimedPath(batch), { force: true });
    this.forget(batch);
  }

  /** Sending failed: put it back, still the oldest. */
  async release(batch: StoredBatch): Promise<void> {
    const entry = this.entries.find((e) => e.name === batch.name);
    if (!entry) return;
    await fs.promises.rename(this.claimedPath(batch), this.pathOf(batch.name));
    entry.claimed = false;
  }

  private async enforceLimits(): Promise<void> {
    let droppedSpans = 0;
    let droppedBatches = 0;
    while (this.byteCount > this.opts.maxBytes || this.spanCount > this.opts.maxSpans) {
      const oldest = this.entries.find((e) => !e.claimed);
      if (!oldest) break;
      await fs.promises.rm(this.pathOf(oldest.name), { force: true });
      this.forget(oldest);
      droppedSpans += oldest.spans;
      droppedBatches++;
    }
    if (droppedBatches > 0) {
      this.opts.warn('span buffer full: dropped the oldest spans', {
        droppedSpans,
        droppedBatches,
        bufferedSpans: this.spanCount,
        bufferedBytes: this.byteCount,
      });
    }
  }

  // Runs once at start-up, before any export: synchronous on purpose.
  private recover(): void {
    for (const name of fs.readdirSync(this.opts.dir).sort()) {
      const full = this.pathOf(name);
      if (name.endsWith('.tmp')) {
        fs.rmSync(full, { force: true }); // a write interrupted by a crash
        continue;
      }
      let base = name;
      const claimed = CLAIMED.exec(name);
      if (claimed) {
        const [, original, pid] = claimed;
        // Our own pid can only be a previous life of this process (containers reuse pids).
        if (!original || (Number(pid) !== process.pid && isAlive(Number(pid)))) continue;
        fs.renameSync(full, this.pathOf(original));
        base = original;
      }
      const match = FILE.exec(base);
      if (!match) continue;
      this.entries.push({
        name: base,
        bytes: fs.statSync(this.pathOf(base)).size,
        spans: Number(match[4]),
        claimed: false,
      });
    }
    this.entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const bytes = this.byteCount;
    while (this.byteCount > this.opts.maxBytes || this.spanCount > this.opts.maxSpans) {
      const oldest = this.entries[0];
      if (!oldest) break;
      fs.rmSync(this.pathOf(oldest.name), { force: true });
      this.forget(oldest);
    }
    if (this.byteCount < bytes)
      this.opts.warn('span buffer over its limits at start: dropped the oldest spans');
  }

  private forget(batch: StoredBatch): void {
    const i = this.entries.findIndex((e) => e.name === batch.name);
    if (i >= 0) this.entries.splice(i, 1);
  }

  private pathOf(name: string): string {
    return path.join(this.opts.dir, name);
  }

  private claimedPath(batch: StoredBatch): string {
    return this.pathOf(`${batch.name}.sending-${process.pid}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}
