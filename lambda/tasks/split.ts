import type { TaskSettings } from '../config/task-settings.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** The split of an anchor, by time: `test` from testFrom, `val` from valFrom, `train` before. */
export function splitOf(anchor: number, settings: Pick<TaskSettings, 'valFrom' | 'testFrom'>): Split {
  return anchor >= settings.testFrom ? 'test' : anchor >= settings.valFrom ? 'val' : 'train';
}
