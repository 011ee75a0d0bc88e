/**
 * A set of positive integer ids: a bitset for ids up to `expectedMax` (the config's user count),
 * a Set for anything else, which only corrupt data produces.
 */
export class IdSet {
  private readonly bits: Uint8Array;
  private readonly others = new Set<number>();
  size = 0;

  constructor(private readonly expectedMax: number) {
    this.bits = new Uint8Array((expectedMax >> 3) + 1);
  }

  /** Adds an id; false when it was already present. */
  add(id: number): boolean {
    if (Number.isInteger(id) && id >= 1 && id <= this.expectedMax) {
      const mask = 1 << (id & 7);
      if (this.bits[id >> 3] & mask) return false;
      this.bits[id >> 3] |= mask;
    } else {
      if (this.others.has(id)) return false;
      this.others.add(id);
    }
    this.size++;
    return true;
  }

  /** Ids of this set missing from `other`: how many, and the first `limit` of them. */
  missingFrom(other: IdSet, limit: number): { count: number; first: number[] } {
    let count = 0;
    const first: number[] = [];
    const note = (id: number): void => {
      if (other.has(id)) return;
      count++;
      if (first.length < limit) first.push(id);
    };
    for (let byte = 0; byte < this.bits.length; byte++) {
      if (this.bits[byte] === 0) continue;
      for (let bit = 0; bit < 8; bit++) if (this.bits[byte] & (1 << bit)) note(byte * 8 + bit);
    }
    for (const id of this.others) note(id);
    return { count, first };
  }

  has(id: number): boolean {
    if (Number.isInteger(id) && id >= 1 && id <= this.expectedMax) return (this.bits[id >> 3] & (1 << (id & 7))) !== 0;
    return this.others.has(id);
  }
}
