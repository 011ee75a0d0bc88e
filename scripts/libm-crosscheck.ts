// One-off large cross-check of lambda/libm against Python (see scripts/libm_crosscheck.py).
// usage: python3 scripts/libm_crosscheck.py /tmp/libmcc 16000000
//        npx tsx scripts/libm-crosscheck.ts /tmp/libmcc
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { exp } from '../lambda/libm/exp.js';
import { log } from '../lambda/libm/log.js';
import { pow } from '../lambda/libm/pow.js';

const dir = process.argv[2] ?? '/tmp/libmcc';

function same(a: number, b: number): boolean {
  return Object.is(a, b) || (a !== a && b !== b);
}

function check(name: 'exp' | 'log' | 'pow'): void {
  const arity = name === 'pow' ? 3 : 2;
  const fd = openSync(join(dir, `${name}.bin`), 'r');
  const recs = 1 << 18;
  const buf = Buffer.alloc(recs * arity * 8);
  let n = 0;
  let bad = 0;
  let v8bad = 0;
  const shown: string[] = [];
  for (;;) {
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got === 0) break;
    const f = new Float64Array(buf.buffer, buf.byteOffset, got / 8);
    for (let i = 0; i + arity <= f.length; i += arity) {
      n++;
      const want = f[i + arity - 1];
      let mine: number;
      let v8: number;
      if (name === 'exp') {
        mine = exp(f[i]);
        v8 = Math.exp(f[i]);
      } else if (name === 'log') {
        mine = log(f[i]);
        v8 = Math.log(f[i]);
      } else {
        mine = pow(f[i], f[i + 1]);
        v8 = Math.pow(f[i], f[i + 1]);
      }
      if (!same(mine, want)) {
        bad++;
        if (shown.length < 10) shown.push(`${name}(${f.slice(i, i + arity - 1).join(', ')}) = ${mine}, python ${want}`);
      }
      if (!same(v8, want)) v8bad++;
    }
  }
  closeSync(fd);
  console.log(`${name}: ${n} inputs, ${bad} mismatches (V8 Math.${name}: ${v8bad} mismatches)`);
  for (const s of shown) console.log('  ' + s);
}

check('exp');
check('log');
check('pow');
