import type { GenerationConfig } from '../config/schema.js';

/**
 * Cohorts: 1 always premium, 2 always free, 3 premium→free, 4 free→premium, 5 free→premium→free.
 */
export type Cohort = 1 | 2 | 3 | 4 | 5;

export const COHORTS: readonly Cohort[] = [1, 2, 3, 4, 5];

/** The cohort of each user: explicit block sizes, or five equal blocks `floor((uid-1)*5/users)+1`. */
export function cohortAssigner(config: Pick<GenerationConfig, 'users' | 'cohortSizes'>): (userId: number) => Cohort {
  const sizes = config.cohortSizes;
  if (!sizes) {
    const n = config.users;
    return (uid) => (Math.floor(((uid - 1) * 5) / n) + 1) as Cohort;
  }
  const bounds: number[] = [];
  let acc = 0;
  for (const size of sizes) bounds.push((acc += size));
  return (uid) => {
    for (let k = 0; k < bounds.length; k++) if (uid <= bounds[k]) return (k + 1) as Cohort;
    return bounds.length as Cohort;
  };
}
