import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SpillHandle {
  offset: number;
  length: number;
}

/**
 * An append-only scratch file for intermediate arrays (SVD factors, encoded tensors) so that
 * compressing a 7B model keeps one matrix in memory at a time instead of all of them.
 * Removed on close, whatever happened.
 */
export class SpillStore {
  private length = 0;

  private constructor(
    private readonly dir: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(parent = tmpdir()): Promise<SpillStore> {
    const dir = await mkdtemp(join(parent, 'deltahub-spill-'));
    return new SpillStore(dir, await open(join(dir, 'spill.bin'), 'w+'));
  }

  async put(data: ArrayBufferView): Promise<SpillHandle> {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const offset = this.length;
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(
        bytes,
        written,
        bytes.length - written,
        offset + written,
      );
      written += bytesWritten;
    }
    this.length += bytes.length;
    return { offset, length: bytes.length };
  }

  async get(h: SpillHandle): Promise<Uint8Array> {
    const out = new Uint8Array(h.length);
    let read = 0;
    while (read < h.length) {
      const { bytesRead } = await this.handle.read(out, read, h.length - read, h.offset + read);
      if (bytesRead === 0) throw new Error('spill file ended early');
      read += bytesRead;
    }
    return out;
  }

  async getFloat32(h: SpillHandle): Promise<Float32Array> {
    const b = await this.get(h);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }

  async getFloat64(h: SpillHandle): Promise<Float64Array> {
    const b = await this.get(h);
    return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
