import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { exponential, zigguratEdges } from '../lambda/engine/seedrandom/poisson-process.js';
import { fastExp, fastLog, fastLogUnit, normalQuantile } from '../lambda/engine/seedrandom/fast-math.js';
import { seedUserStream, streamKeys } from '../lambda/engine/seedrandom/user-stream.js';
import { exp } from '../lambda/libm/exp.js';
import { log } from '../lambda/libm/log.js';

/** The seedrandom engine's sampling primitives against the exact libm and the exact distribution. */

const r = seedrandom.alea('tierdrift sampling primitives');

describe('fastLog, fastLogUnit, fastExp', () => {
  it('fastLog agrees with the libm log to 1e-14 on [1, 2^32], powers of two and slice edges included', () => {
    const xs = [1, 2, 3, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1 + 1 / 128, 1 + 0.5 / 128, 2 - 2 ** -40];
    for (let k = 0; k < 20_000; k++) xs.push(1 + Math.floor(r() * 2 ** 32), 2 ** (r() * 32));
    for (const x of xs) expect(Math.abs(fastLog(x) - log(x)), String(x)).toBeLessThan(1e-14);
  });

  it('fastLogUnit and fastExp agree with the libm to a few ulps', () => {
    for (let k = 0; k < 20_000; k++) {
      const s = r() * r() + 1e-12;
      expect(Math.abs(fastLogUnit(s) - log(s))).toBeLessThan(1e-14 + 1e-15 * Math.abs(log(s)));
      const x = (r() - 0.5) * 160;
      expect(Math.abs(fastExp(x) / exp(x) - 1), String(x)).toBeLessThan(1e-15);
    }
    expect(fastLogUnit(1)).toBe(0);
    expect(fastLogUnit(2 ** -40)).toBe(log(2 ** -40));
    expect(fastExp(0)).toBe(1);
    expect(fastExp(800)).toBe(Infinity);
    expect(fastExp(-800)).toBe(0);
  });
});

describe('normalQuantile', () => {
  it('matches known quantiles of the standard normal to 1.2e-9 relative, symmetric, increasing', () => {
    const known: [number, number][] = [
      [0.5, 0],
      [0.6, 0.2533471031357997],
      [0.9, 1.2815515655446004],
      [0.975, 1.959963984540054],
      [0.999, 3.090232306167813],
      [1e-6, -4.753424308822899],
      [0.01, -2.3263478740408408],
      [1e-10, -6.361340902404056],
    ];
    for (const [p, z] of known)
      expect(Math.abs(normalQuantile(p) - z), String(p)).toBeLessThanOrEqual(1.2e-9 * Math.abs(z) + 1e-9);
    let previous = -Infinity;
    for (let k = 1; k < 10_000; k++) {
      const p = k / 10_000;
      const z = normalQuantile(p);
      expect(z > previous, String(p)).toBe(true);
      expect(Math.abs(z + normalQuantile(1 - p))).toBeLessThan(1e-12);
      previous = z;
    }
  });
});

describe('ziggurat exponential', () => {
  it('has 256 layers of equal area', () => {
    const { edges, area, tailStart } = zigguratEdges();
    expect(edges[1]).toBe(tailStart);
    expect(edges[256]).toBe(0);
    expect(Math.abs((tailStart * Math.exp(-tailStart) + Math.exp(-tailStart)) / area - 1)).toBeLessThan(1e-12);
    for (let i = 1; i < 256; i++) {
      const layer = edges[i] * (Math.exp(-edges[i + 1]) - Math.exp(-edges[i]));
      expect(Math.abs(layer / area - 1), `layer ${i}`).toBeLessThan(1e-10);
    }
  });

  it('draws standard exponentials: Kolmogorov-Smirnov, mean, variance and the tail at alpha = 0.001', () => {
    const st = new Float64Array(4);
    seedUserStream(st, streamKeys(12345), 7, 1);
    const n = 400_000;
    const xs = new Float64Array(n);
    for (let k = 0; k < n; k++) xs[k] = exponential(st);
    xs.sort();
    let d = 0;
    for (let k = 0; k < n; k++) {
      const cdf = 1 - Math.exp(-xs[k]);
      d = Math.max(d, cdf - k / n, (k + 1) / n - cdf);
    }
    expect(d).toBeLessThan(Math.sqrt(-Math.log(0.001 / 2) / 2) / Math.sqrt(n));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    const z = 3.29; // two-sided 0.001; the mean's sd is 1/sqrt(n), the variance's ~sqrt(8/n)
    expect(Math.abs(mean - 1)).toBeLessThan(z / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(z * Math.sqrt(8 / n));
    // Beyond the base layer (the tail path) as often as e^-R says: binomial, n p ~ 180.
    const tail = xs.filter((x) => x > 7.69711747013105).length;
    const p = Math.exp(-7.69711747013105);
    expect(Math.abs(tail - n * p)).toBeLessThan(z * Math.sqrt(n * p * (1 - p)));
  });
});
