/**
 * The dice every injection point rolls: a small seeded generator (mulberry32) per point, so a
 * run with the same seed injects the same faults at the same requests of each point, whatever
 * the other points do meanwhile.
 */
export interface FaultDice {
  /** True with probability `rate` (absent or 0: never; 1: always). */
  roll(rate: number | undefined): boolean;
  /** A whole number from 0 to `count - 1`. */
  pick(count: number): number;
}

/** Dice for one injection point (`stream`), from the plan's seed; a random seed when there is none. */
export function faultDice(seed: number | undefined, stream: string): FaultDice {
  const next = mulberry32(mix(seed ?? Math.floor(Math.random() * 2 ** 32), stream));
  return {
    roll(rate) {
      if (!rate) return false;
      return next() < rate;
    },
    pick(count) {
      return Math.floor(next() * count);
    },
  };
}

/** The seed and the stream's name folded into one 32-bit state (FNV-1a). */
function mix(seed: number, stream: string): number {
  let hash = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (const char of `:${stream}`) {
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 16777619) >>> 0;
  }
  return hash;
}

function mulberry32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
