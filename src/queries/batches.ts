import { withInputErrors } from '../errors.js';

/**
 * Calls a batched purge until a call deletes fewer rows than a batch (each
 * call is its own transaction when the caller passed the database rather
 * than a transaction), and returns how many rows went in all.
 */
export async function purgeInBatches(batchSize: number, purgeBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await withInputErrors(purgeBatch);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
