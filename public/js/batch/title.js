// @ts-check
// What a batch is called on the page: the batches list, its own page's heading and title.

import { fmtTime } from "../format.js";

/** @typedef {import("../types.js").Batch} Batch */

/**
 * Its name; a batch without one goes by its file's name (its id, when it was made before
 * file names were kept) and when it was created, since one file is often uploaded again.
 * @param {Pick<Batch, "id" | "name" | "fileName" | "createdAt">} batch
 */
export function batchTitle(batch) {
  if (batch.name) return batch.name;
  return `${batch.fileName || batch.id} · ${fmtTime(batch.createdAt)}`;
}

/**
 * Whether the title leaves the id out, so the page should show it too (operators copy it).
 * @param {Pick<Batch, "name" | "fileName">} batch
 */
export const titleHidesId = (batch) => Boolean(batch.name || batch.fileName);
