import type { TaskSettings } from '../config/task-settings.js';

/**
 * Which users get task rows when `tasks.userFraction` is below 1: user u is in the sample when
 * a 32-bit hash of (seed, u) falls below userFraction · 2^32. A function of the config and the
 * user id only, so every worker and fan-out shard agrees without coordination, and the same user
 * stays in the sample as `users` grows. The hash is MurmurHash3's finalizer (a bijection of 32
 * bits with full avalanche), applied to the seed and then to the mixed seed xor the user id.
 */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The user's 32-bit sample key, uniform over [0, 2^32) across users. */
export function userSampleKey(seed: number, userId: number): number {
  return fmix32((fmix32(seed) ^ userId) >>> 0);
}

/** Whether the user gets task rows: its key is below `sampleThreshold` (userFraction · 2^32; 1 → every user). */
export function inTaskSample(userId: number, settings: Pick<TaskSettings, 'seed' | 'sampleThreshold'>): boolean {
  return userSampleKey(settings.seed, userId) < settings.sampleThreshold;
}
