import { ITEM_50GB, startedBatch, type UserBatch } from '../engine/user-batch.js';
import { SECONDS_PER_HOUR } from '../config/task-settings.js';

/**
 * The task's label for one user's anchors, asked in increasing order: 1 when the user has a
 * 50 GB upload at a written second in (anchor, anchor + 1 h]. It keeps the index of the first
 * 50 GB upload after the last anchor, so a user costs O(anchors + uploads) in all.
 */
export class LargeUploadLabeler {
  private batch: Pick<UserBatch, 'uploadCount' | 'uploadAt' | 'uploadItemId'> | undefined;
  private next = 0;

  /** Starts a user; its uploads must be sorted by time (as every batch's are). */
  reset(batch: Pick<UserBatch, 'uploadCount' | 'uploadAt' | 'uploadItemId'>): void {
    this.batch = batch;
    this.next = 0;
  }

  label(anchor: number): 0 | 1 {
    const { uploadCount, uploadAt, uploadItemId } = startedBatch(this.batch);
    let j = this.next;
    while (j < uploadCount && (uploadAt[j] <= anchor || uploadItemId[j] !== ITEM_50GB)) j++;
    this.next = j;
    return j < uploadCount && uploadAt[j] <= anchor + SECONDS_PER_HOUR ? 1 : 0;
  }
}
