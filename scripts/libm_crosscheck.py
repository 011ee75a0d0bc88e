#!/usr/bin/env python3
"""Large one-off cross-check inputs/expectations for lambda/libm (not part of the test suite).

Writes little-endian float64 records to OUT_DIR/{exp,log,pow}.bin:
  exp/log: (x, math.exp(x) / math.log(x))      pow: (x, y, x ** y)
Inputs come from numpy's PCG64 with a fixed seed; expected values come from
this machine's Python (glibc libm, FMA ifunc variants), evaluated one by one
(numpy's own vectorised exp/log are NOT glibc and are never used for results).

usage: python3 scripts/libm_crosscheck.py OUT_DIR [N_PER_FUNCTION=16000000] [SEED=20240607]
then:  npx tsx scripts/libm-crosscheck.ts OUT_DIR
"""
import math
import operator
import os
import sys

import numpy as np


def bits_to_f64(u):
    return np.asarray(u, dtype=np.uint64).view(np.float64)


def exp_inputs(rng, n):
    k = n // 8
    parts = [
        rng.uniform(-745.2, 709.8, k),
        rng.uniform(-50, 50, k),
        -rng.uniform(0, 30, k),
        rng.uniform(-1, 1, k) * 10.0 ** rng.uniform(-20, 0, k),
        rng.uniform(-0.01, 0.01, k),
        rng.uniform(-745.2, -708.5, k),           # subnormal results
        rng.uniform(700, 709.78, k),              # near overflow
    ]
    # random bit patterns with |x| in [2^-60, 2^10)
    e = rng.integers(0x3ff - 60, 0x3ff + 10, n - 7 * k, dtype=np.uint64)
    m = rng.integers(0, 1 << 52, n - 7 * k, dtype=np.uint64)
    s = rng.integers(0, 2, n - 7 * k, dtype=np.uint64)
    parts.append(bits_to_f64((s << np.uint64(63)) | (e << np.uint64(52)) | m))
    x = np.concatenate(parts)
    x = x[(x > -745.2) & (x < 709.78)]
    return x


def log_inputs(rng, n):
    k = n // 8
    parts = [
        rng.uniform(0, 1e6, k),
        1.0 + rng.uniform(-0.07, 0.07, k),
        1.0 + rng.uniform(-1, 1, k) * 10.0 ** rng.uniform(-16, -1, k),
        rng.uniform(0, 100, k),
        10.0 ** rng.uniform(-300, 300, k),
        rng.uniform(0.5, 2, k),
        rng.uniform(0, 1, k),
    ]
    # random positive bit patterns incl. subnormals
    b = rng.integers(1, 0x7ff0000000000000, n - 7 * k, dtype=np.uint64)
    parts.append(bits_to_f64(b))
    x = np.concatenate(parts)
    return x[x > 0]


def pow_inputs(rng, n):
    k = n // 6
    xs, ys = [], []
    x = rng.uniform(0, 100, k); xs.append(x); ys.append(np.full(k, 2.0))
    x = rng.uniform(0, 100, k); xs.append(x); ys.append(np.full(k, 0.5))
    x = rng.uniform(0, 100, k); xs.append(x); ys.append(rng.uniform(-10, 10, k))
    x = -rng.uniform(0, 100, k); xs.append(x); ys.append(rng.integers(-20, 21, k).astype(np.float64))
    x = 10.0 ** rng.uniform(-30, 30, k); xs.append(x); ys.append(rng.uniform(-10, 10, k))
    m = n - 5 * k
    x = 1.0 + rng.uniform(-1, 1, m) * 10.0 ** rng.uniform(-12, 0, m); xs.append(x); ys.append(rng.uniform(-1e3, 1e3, m))
    x = np.concatenate(xs); y = np.concatenate(ys)
    keep = ~((x == 0) & (y < 0))
    return x[keep], y[keep]


def safe_map(f, *cols):
    try:
        return list(map(f, *cols)), None
    except (OverflowError, ZeroDivisionError, ValueError):
        out, ok = [], []
        for args in zip(*cols):
            try:
                v = f(*args)
                if isinstance(v, complex):
                    raise ValueError
                out.append(v); ok.append(True)
            except (OverflowError, ZeroDivisionError, ValueError):
                out.append(0.0); ok.append(False)
        return out, np.array(ok)


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 16_000_000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20240607
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    for name in ('exp', 'log'):
        xs = exp_inputs(rng, n) if name == 'exp' else log_inputs(rng, n)
        f = math.exp if name == 'exp' else math.log
        with open(os.path.join(out, name + '.bin'), 'wb') as fh:
            for i in range(0, len(xs), chunk):
                x = xs[i:i + chunk]
                v, ok = safe_map(f, x.tolist())
                rec = np.empty((len(x), 2)); rec[:, 0] = x; rec[:, 1] = v
                if ok is not None:
                    rec = rec[ok]
                fh.write(rec.astype('<f8').tobytes())
        print(name, len(xs), file=sys.stderr)
    xs, ys = pow_inputs(rng, n)
    with open(os.path.join(out, 'pow.bin'), 'wb') as fh:
        for i in range(0, len(xs), chunk):
            x, y = xs[i:i + chunk], ys[i:i + chunk]
            v, ok = safe_map(operator.pow, x.tolist(), y.tolist())
            rec = np.empty((len(x), 3)); rec[:, 0] = x; rec[:, 1] = y; rec[:, 2] = v
            if ok is not None:
                rec = rec[ok]
            fh.write(rec.astype('<f8').tobytes())
    print('pow', len(xs), file=sys.stderr)


if __name__ == '__main__':
    main()
