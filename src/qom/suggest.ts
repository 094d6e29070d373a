/**
 * "Did you mean …?" hints for error messages about unknown names (types, properties).
 * @module
 */

/** Levenshtein distance, case-insensitive (names are short, so the O(n·m) table is fine). */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate to `name` if it is close enough to be a likely typo
 * (at most 2 edits, and at most a third of the name), else undefined.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  if (best === undefined || bestD === 0) return best;
  return bestD <= 2 && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** `" (did you mean 'x'?)"` or the empty string. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const c = closestName(name, candidates);
  return c === undefined ? '' : ` (did you mean '${c}'?)`;
}
