import { exp } from '../../libm/exp.js';
import { log } from '../../libm/log.js';
import { aleaNext } from './user-stream.js';

/**
 * Standard exponential variates by Marsaglia and Tsang's ziggurat (2000) with 256 layers of equal
 * area V under e^-x: ~99% of draws cost one uniform, a table lookup, a compare and a multiply (no
 * log). The uniform is read as f = layer + fraction in [0, 256): the point x = fraction * X[layer]
 * lies under the curve for sure when x < X[layer + 1]; otherwise (`exponentialSlow`) it is in a
 * wedge, accepted when a second uniform falls under e^-x, or in the base layer's tail beyond R,
 * where R + a fresh exponential is exact (memorylessness).
 *
 * Tables from the libm once per process; sampling uses only `+ - * /` and the libm's exp on the
 * rare wedge path, so the same bits on every machine.
 */

export const ZIGGURAT_LAYERS = 256;
const R = 7.69711747013104972; // right edge of the base layer's rectangle (Marsaglia and Tsang)
const V = 3.949659822581572e-3; // area of each layer (the base one with the tail)

/** X[i]: right edge of layer i (X[0] = V / e^-R, the base layer's virtual width; X[256] = 0). */
const X = new Float64Array(ZIGGURAT_LAYERS + 1);
X[0] = V * exp(R);
X[1] = R;
for (let i = 1; i < ZIGGURAT_LAYERS - 1; i++) X[i + 1] = -log(V / X[i] + exp(-X[i]));
X[ZIGGURAT_LAYERS] = 0;
/** e^-X[i]: layer i spans the heights [F[i], F[i + 1]]. */
const F = X.map((x) => exp(-x));
/** X[i + 1] / X[i]: a fraction below it puts the point under the curve. */
const RATIO = Float64Array.from({ length: ZIGGURAT_LAYERS }, (_, i) => X[i + 1] / X[i]);

/** The common case for f in [0, 256): the exponential, or -1 when the point needs `exponentialSlow`. */
export function zigguratFast(f: number): number {
  const i = f | 0;
  const fraction = f - i;
  return fraction < RATIO[i] ? fraction * X[i] : -1;
}

/**
 * The rest of the ziggurat for an f that `zigguratFast` did not accept; draws from the stream `st`.
 * A loop, not a recursion, so that it always returns a number where it is inlined.
 */
export function exponentialSlow(st: Float64Array, f: number): number {
  let tail = 0;
  for (;;) {
    const i = f | 0;
    if (i === 0) {
      tail += R; // beyond R: R + a fresh exponential
    } else {
      const x = (f - i) * X[i];
      if (F[i] + aleaNext(st) * (F[i + 1] - F[i]) < exp(-x)) return tail + x;
    }
    f = aleaNext(st) * ZIGGURAT_LAYERS;
    const e = zigguratFast(f);
    if (e >= 0) return tail + e;
  }
}

/** A standard exponential from the alea stream `st`. */
export function exponential(st: Float64Array): number {
  const f = aleaNext(st) * ZIGGURAT_LAYERS;
  const e = zigguratFast(f);
  return e >= 0 ? e : exponentialSlow(st, f);
}

/** For tests: the layer edges, to check that every layer has area V. */
export const zigguratEdges = (): { edges: Float64Array; area: number; tailStart: number } => ({ edges: X.slice(), area: V, tailStart: R });
