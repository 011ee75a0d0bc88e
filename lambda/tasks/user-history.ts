import { SECONDS_PER_HOUR } from '../config/task-settings.js';
import { ITEM_50GB, type UserBatch } from '../engine/user-batch.js';

/** A tier interval as written, in epoch seconds; `until` is the window's end when left open. */
export interface Interval {
  from: number;
  until: number;
  premium: boolean;
}

/** What the dataset records of one user: tier intervals in time order and 50 GB upload times, sorted. */
export interface UserHistory {
  userId: number;
  intervals: Interval[];
  largeUploads: number[];
}

/** The window [start, end) of a dataset, in epoch seconds. */
export interface Window {
  start: number;
  end: number;
}

/**
 * A generated user's history, as the baselines would read it back from tiers.csv and uploads.csv:
 * a batch's intervals are in time order (an open one ends at the window's end) and its uploads
 * sorted by time.
 */
export function userHistoryOf(batch: UserBatch): UserHistory {
  const intervals: Interval[] = [];
  for (let t = 0; t < batch.tierCount; t++)
    intervals.push({ from: batch.tierFrom[t], until: batch.tierUntil[t], premium: batch.tierIsPremium[t] === 1 });
  const largeUploads: number[] = [];
  for (let j = 0; j < batch.uploadCount; j++)
    if (batch.uploadItemId[j] === ITEM_50GB) largeUploads.push(batch.uploadAt[j]);
  return { userId: batch.userId, intervals, largeUploads };
}

/** Index of the interval in force at `at`, judged by `from` alone (its `until` may lie in the future), or -1. */
export function intervalAt(user: UserHistory, at: number): number {
  let found = -1;
  for (let i = 0; i < user.intervals.length && user.intervals[i].from <= at; i++) found = i;
  return found;
}

/**
 * The premium time of a user that excludes each upgrade's first hour (the spike, estimated apart),
 * as [from, until) segments: the ordinary premium rate is measured on these.
 */
export function ordinaryPremiumSegments(user: UserHistory, window: Window): Array<[number, number]> {
  const segments: Array<[number, number]> = [];
  for (const { from, until, premium } of user.intervals) {
    if (!premium) continue;
    const ordinaryFrom = from > window.start ? from + SECONDS_PER_HOUR : from;
    if (ordinaryFrom < until) segments.push([ordinaryFrom, until]);
  }
  return segments;
}
