import { log } from '../../libm/log.js';
import { pow } from '../../libm/pow.js';

export interface LognormalParams {
  mu: number;
  sigma: number;
}

/** The reference's `draw_user_rate` parameters: a lognormal with the given mean and std per day. */
export function lognormalParams(meanPerDay: number, stdPerDay: number): LognormalParams {
  const mean = Math.max(0.01, meanPerDay);
  const std = Math.max(0.01, stdPerDay);
  // Python evaluates `(std / mean) ** 2` with libm pow, which is not always x*x.
  const cv2 = pow(std / mean, 2);
  const sigma2 = log(cv2 + 1);
  return { mu: log(mean) - 0.5 * sigma2, sigma: Math.sqrt(sigma2) };
}
