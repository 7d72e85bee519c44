import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ImageInfo, sniffImage } from './_image-info.js';

export interface StoredUpload extends ImageInfo {
  sha256: string;
  bytes: Buffer;
}

/** What the handlers need of the uploads: a frame by the content hash its URL names. */
export interface UploadLookup {
  get(sha256: string): StoredUpload | undefined;
}

/**
 * Uploaded frames by sha256. With a directory (`uploadDir`), each is also kept there as `<sha256>.<png|jpg>` and
 * read back when first asked for, so a restarted simulator still knows the frame URLs it handed out — as a real
 * provider does — and a resumed rehearsal's submits are not refused for frames uploaded by an earlier process.
 * A file is written to a temp name and renamed, so a kill never leaves a half frame under a real name.
 */
export class UploadStore implements UploadLookup {
  private readonly memory = new Map<string, StoredUpload>();

  constructor(private readonly dir: string | undefined) {
    if (dir !== undefined) mkdirSync(dir, { recursive: true });
  }

  get(sha256: string): StoredUpload | undefined {
    return this.memory.get(sha256) ?? this.load(sha256);
  }

  put(upload: StoredUpload): void {
    if (this.memory.has(upload.sha256)) return;
    this.memory.set(upload.sha256, upload);
    if (this.dir === undefined) return;
    const path = join(this.dir, `${upload.sha256}.${upload.type}`);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, upload.bytes);
    renameSync(tmp, path);
  }

  private load(sha256: string): StoredUpload | undefined {
    if (this.dir === undefined || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    for (const type of ['png', 'jpg'] as const) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(this.dir, `${sha256}.${type}`));
      } catch {
        continue;
      }
      const info = sniffImage(bytes);
      if (!info) return undefined;
      const upload = { ...info, sha256, bytes };
      this.memory.set(sha256, upload);
      return upload;
    }
    return undefined;
  }
}
