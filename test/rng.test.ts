import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PythonRandom } from '../lambda/rng/python-random.js';
import { NumpyLegacyRandom, numpyLoggam } from '../lambda/rng/numpy-legacy.js';

// Expected values come from CPython's `random` and numpy's legacy RNG, written once by
// scripts/fixtures/rng_fixture.py. Doubles are stored as Python reprs: Number(repr) is exact.
interface RngFixture {
  python_random: { seed: number; random: string[] }[];
  numpy: {
    seed: number;
    random_sample: string[];
    standard_normal: string[];
    gauss_uniform_gauss_gauss: string[];
    lognormal: { mu: string; sigma: string; values: string[] }[];
    poisson: { lam: string; values: number[]; nextDouble: string }[];
  }[];
  mixedPoisson: { lams: string[]; cases: { seed: number; values: number[] }[] };
  loggam: { x: string; value: string }[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/rng.json', import.meta.url), 'utf8')) as RngFixture;
const num = (s: string): number => Number(s);

/** Compares doubles bit for bit (Object.is also separates 0 and -0), reporting the first difference. */
function expectSameDoubles(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  const firstDiff = actual.findIndex((v, i) => !Object.is(v, expected[i]));
  expect({ firstDiff, actual: actual[firstDiff], expected: expected[firstDiff] }).toEqual({
    firstDiff: -1,
    actual: undefined,
    expected: undefined,
  });
}

describe('fixture sanity', () => {
  it('covers the seeds the brief asks for, including multi-word Python seeds', () => {
    const numpySeeds = fixture.numpy.map((c) => c.seed);
    expect(numpySeeds).toEqual([0, 1, 42, 2025, 123456789, 4294967295]);
    expect(fixture.python_random.some((c) => c.seed > 2 ** 32)).toBe(true);
  });
});

describe('PythonRandom (CPython random.seed(n); random.random())', () => {
  for (const { seed, random } of fixture.python_random) {
    it(`seed ${seed}: first ${random.length} random() values`, () => {
      const rng = new PythonRandom(seed);
      expectSameDoubles(
        random.map(() => rng.random()),
        random.map(num),
      );
    });
  }

  it('seeds differ: random.seed(0) and random.seed(1) give different streams', () => {
    expect(new PythonRandom(0).random()).not.toBe(new PythonRandom(1).random());
  });

  it('uses |n| as CPython does (random.seed(-5) == random.seed(5))', () => {
    const a = new PythonRandom(-42);
    const expected = fixture.python_random.find((c) => c.seed === 42)!.random.map(num);
    expectSameDoubles(
      expected.map(() => a.random()),
      expected,
    );
  });
});

describe('NumpyLegacyRandom (np.random.seed(n))', () => {
  for (const c of fixture.numpy) {
    describe(`seed ${c.seed}`, () => {
      it('random_sample / double()', () => {
        const rng = new NumpyLegacyRandom(c.seed);
        expectSameDoubles(
          c.random_sample.map(() => rng.double()),
          c.random_sample.map(num),
        );
      });

      it('standard_normal sequence / gauss() (pairs: fresh value, then the cached partner)', () => {
        const rng = new NumpyLegacyRandom(c.seed);
        expectSameDoubles(
          c.standard_normal.map(() => rng.gauss()),
          c.standard_normal.map(num),
        );
      });

      it('a uniform between two gaussians does not disturb the cached gaussian', () => {
        const rng = new NumpyLegacyRandom(c.seed);
        const got = [rng.gauss(), rng.double(), rng.gauss(), rng.gauss()];
        expectSameDoubles(got, c.gauss_uniform_gauss_gauss.map(num));
      });

      it('a fresh generator (re-seeding) starts without a cached gaussian', () => {
        const first = new NumpyLegacyRandom(c.seed);
        first.gauss(); // leaves a cached partner in `first` only
        const second = new NumpyLegacyRandom(c.seed);
        expect(Object.is(second.gauss(), num(c.standard_normal[0]))).toBe(true);
      });

      for (const { mu, sigma, values } of c.lognormal) {
        it(`lognormal(${mu}, ${sigma})`, () => {
          const rng = new NumpyLegacyRandom(c.seed);
          expectSameDoubles(
            values.map(() => rng.lognormal(num(mu), num(sigma))),
            values.map(num),
          );
        });
      }

      for (const { lam, values, nextDouble } of c.poisson) {
        const branch = num(lam) === 0 ? 'zero' : num(lam) < 10 ? 'multiplication' : 'PTRS';
        it(`poisson(${lam}) [${branch}] draws and consumes exactly numpy's uniforms`, () => {
          const rng = new NumpyLegacyRandom(c.seed);
          const got = values.map(() => rng.poisson(num(lam)));
          expect(got).toEqual(values);
          // The next uniform shows the Poisson draws used exactly as many MT outputs as numpy's.
          expect(Object.is(rng.double(), num(nextDouble))).toBe(true);
        });
      }
    });
  }

  it('fixture poisson values are not trivial (both branches produce varied counts)', () => {
    for (const c of fixture.numpy) {
      for (const p of c.poisson) {
        if (num(p.lam) === 0) expect(new Set(p.values)).toEqual(new Set([0]));
        else expect(new Set(p.values).size).toBeGreaterThan(1);
      }
    }
  });

  for (const { seed, values } of fixture.mixedPoisson.cases) {
    it(`seed ${seed}: interleaved lams (cached exp(-lam) must follow lam changes, both branches in one stream)`, () => {
      const rng = new NumpyLegacyRandom(seed);
      expect(fixture.mixedPoisson.lams.map((lam) => rng.poisson(num(lam)))).toEqual(values);
    });
  }

  it('numpy and Python seed the same integer differently', () => {
    expect(new NumpyLegacyRandom(42).double()).not.toBe(new PythonRandom(42).random());
  });
});

describe('numpyLoggam (numpy random_loggam, Stirling series)', () => {
  for (const { x, value } of fixture.loggam) {
    it(`loggam(${x})`, () => {
      expect(Object.is(numpyLoggam(num(x)), num(value))).toBe(true);
    });
  }

  it('approximates log Gamma (sanity: log((n-1)!) within 1e-9 relative)', () => {
    let logFact = 0;
    for (let n = 2; n <= 170; n++) {
      logFact += Math.log(n - 1); // log((n-1)!) = log Gamma(n)
      const got = numpyLoggam(n);
      expect(Math.abs(got - logFact)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(logFact)));
    }
  });
});

describe('NumpyLegacyRandom.poissonRepeat', () => {
  it.each([0, 0.04, 0.125, 2.5, 9.99, 10, 37.2])(
    'equals n separate poisson(%d) calls, stream position included',
    (lam) => {
      const a = new NumpyLegacyRandom(2025);
      const b = new NumpyLegacyRandom(2025);
      const out = new Int32Array(500);
      a.poissonRepeat(lam, 500, out);
      const separate = Array.from({ length: 500 }, () => b.poisson(lam));
      expect(Array.from(out)).toEqual(separate);
      expect(a.double()).toBe(b.double());
    },
  );
});
