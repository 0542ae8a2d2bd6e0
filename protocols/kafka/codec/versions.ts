/** A version range in Kafka's notation: "0+", "3-7", "5", "none". */
export type VersionRange = readonly [min: number, max: number];

const NONE: VersionRange = [1, 0];

export function parseRange(s: string): VersionRange {
  const t = s.trim();
  if (t === '' || t === 'none') return NONE;
  if (t.endsWith('+')) return [Number(t.slice(0, -1)), Number.MAX_SAFE_INTEGER];
  const dash = t.indexOf('-');
  if (dash > 0) return [Number(t.slice(0, dash)), Number(t.slice(dash + 1))];
  const v = Number(t);
  return [v, v];
}

export function inRange(r: VersionRange, version: number): boolean {
  return version >= r[0] && version <= r[1];
}
