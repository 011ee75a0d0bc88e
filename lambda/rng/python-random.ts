import { MT19937 } from './mt19937.js';

/** The subset of CPython's `random.Random` the reference uses: `seed(int)` and `random()`. */
export class PythonRandom {
  private readonly mt: MT19937;

  constructor(seed: number) {
    // random.seed(n) keys init_by_array with the 32-bit words of |n|, low word first ([0] for 0).
    const n = Math.abs(seed);
    const key: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 0x100000000)) key.push(rest % 0x100000000);
    this.mt = MT19937.fromKeyArray(key.length ? key : [0]);
  }

  random(): number {
    return this.mt.nextDouble();
  }
}
