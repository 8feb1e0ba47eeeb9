import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors';

/**
 * Gunzips `tgz` into the file `tar`, streaming (Node's own tarball unpacks to ~200 MB: never held in
 * memory), and stops with one line once the output passes `limit` bytes (a decompression bomb).
 */
export async function gunzipToFile(tgz: string, tar: string, what: string, limit: number): Promise<void> {
  let size = 0;
  const bound = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(size > limit ? new UserError(`${what}: unpacks to more than ${limit} bytes`) : null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(tgz), createGunzip(), bound, createWriteStream(tar, { mode: 0o600 }));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${what}: not a gzip stream (${(error as Error).message})`);
  }
}
