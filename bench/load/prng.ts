/**
 * mulberry32: a small seeded generator. Each phase starts one from the same seed, so the floor
 * and raw PostgreSQL phases replay exactly the transfers (pairs and amounts) of the real run.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number in [0, count). */
export function pickIndex(random: () => number, count: number): number {
  return Math.floor(random() * count);
}
