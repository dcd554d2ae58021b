/**
 * Durable small-file writes: write a temp file, fsync it, rename over the
 * target, fsync the directory. After a power cut the target holds either the
 * old or the new content, never a torn mix (POSIX rename(2) atomicity).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Atomically replaces `path` with `data`, created with `mode` (default 0644). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temp, path);
  await fsyncDirectory(dir);
}

/** Creates `path` exclusively (fails with EEXIST if present) and makes it durable. */
export async function writeFileExclusive(
  path: string,
  data: Uint8Array | string,
  mode: number,
): Promise<void> {
  // 'wx' = O_CREAT|O_EXCL: the file is born with `mode` (umask can only remove bits),
  // so a secret key is never readable by others, not even between open and chmod.
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsyncDirectory(dirname(path));
}
