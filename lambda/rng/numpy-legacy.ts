import { exp } from '../libm/exp.js';
import { log } from '../libm/log.js';
import { MT19937 } from './mt19937.js';

// numpy's random_loggam coefficients (Stirling series).
const LOGGAM_A = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** numpy's `random_loggam`: log-gamma, not libm's lgamma (the Poisson PTRS branch compares against it). */
export function numpyLoggam(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.trunc(7 - x) : 0;
  let x0 = x + n;
  const x2 = (1 / x0) * (1 / x0);
  let gl0 = LOGGAM_A[9];
  for (let k = 8; k >= 0; k--) {
    gl0 *= x2;
    gl0 += LOGGAM_A[k];
  }
  let gl = gl0 / x0 + 0.5 * 1.8378770664093453 + (x0 - 0.5) * log(x0) - x0;
  for (let k = 1; k <= n; k++) {
    gl -= log(x0 - 1);
    x0 -= 1;
  }
  return gl;
}

/**
 * The draws of numpy's legacy global `RandomState` the reference uses
 * (`np.random.seed`, `lognormal`, `poisson`), in numpy's exact arithmetic.
 */
export class NumpyLegacyRandom {
  private readonly mt: MT19937;
  private hasGauss = false;
  private cachedGauss = 0;
  // exp(-lam) is the hot spot of the multiplication method; lam repeats for whole hours.
  private lastLam = Number.NaN;
  private lastExpNegLam = 0;

  constructor(seed: number) {
    this.mt = MT19937.fromInteger(seed);
  }

  double(): number {
    return this.mt.nextDouble();
  }

  /** `legacy_gauss`: Marsaglia polar method, second value cached. */
  gauss(): number {
    if (this.hasGauss) {
      this.hasGauss = false;
      const g = this.cachedGauss;
      this.cachedGauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.mt.nextDouble() - 1;
      x2 = 2 * this.mt.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * log(r2)) / r2);
    this.cachedGauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  lognormal(mean: number, sigma: number): number {
    return exp(mean + sigma * this.gauss());
  }

  poisson(lam: number): number {
    if (lam >= 10) return this.poissonPtrs(lam);
    if (lam === 0) return 0;
    return this.poissonMult(lam);
  }

  /** `n` draws of `poisson(lam)` into `out`, as n separate calls would make them. */
  poissonRepeat(lam: number, n: number, out: Int32Array): void {
    if (lam >= 10 || lam <= 0) {
      for (let i = 0; i < n; i++) out[i] = lam > 0 ? this.poisson(lam) : 0;
      return;
    }
    if (lam !== this.lastLam) {
      this.lastLam = lam;
      this.lastExpNegLam = exp(-lam);
    }
    const enlam = this.lastExpNegLam;
    const mt = this.mt;
    for (let i = 0; i < n; i++) {
      let x = 0;
      let prod = mt.nextDouble();
      while (prod > enlam) {
        x += 1;
        prod *= mt.nextDouble();
      }
      out[i] = x;
    }
  }

  private poissonMult(lam: number): number {
    if (lam !== this.lastLam) {
      this.lastLam = lam;
      this.lastExpNegLam = exp(-lam);
    }
    const enlam = this.lastExpNegLam;
    let x = 0;
    let prod = 1;
    for (;;) {
      prod *= this.mt.nextDouble();
      if (prod > enlam) x += 1;
      else return x;
    }
  }

  /** Hörmann's transformed rejection (PTRS), as numpy writes it. */
  private poissonPtrs(lam: number): number {
    const slam = Math.sqrt(lam);
    const loglam = log(lam);
    const b = 0.931 + 2.53 * slam;
    const a = -0.059 + 0.02483 * b;
    const invalpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.mt.nextDouble() - 0.5;
      const v = this.mt.nextDouble();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lam + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - numpyLoggam(k + 1)) return k;
    }
  }
}
