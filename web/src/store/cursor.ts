/**
 * The sync cursor: the stream position a device has applied.
 *
 * A server with one shard numbers every change with one growing position, and its cursor is
 * that number. A server split into shards numbers each shard's changes on their own: events
 * carry `pos` and `shard` (shard 0 is left out), and `sync` answers with one position per
 * shard. The cursor is then an array, indexed by shard. `sync` takes either form back.
 */
export type Cursor = number | number[];

/** The cursor's position for `shard` (0 where it has none). */
export function positionOf(cursor: Cursor, shard = 0): number {
  if (typeof cursor === 'number') return shard === 0 ? cursor : 0;
  return cursor[shard] ?? 0;
}

/** Whether a change at `pos` of `shard` is beyond the cursor (not yet applied). */
export function isAhead(cursor: Cursor, pos: number, shard = 0): boolean {
  return pos > positionOf(cursor, shard);
}

/** The cursor moved forward to include `pos` of `shard` (never backwards). */
export function advance(cursor: Cursor, pos: number, shard = 0): Cursor {
  if (!isAhead(cursor, pos, shard)) return cursor;
  if (typeof cursor === 'number' && shard === 0) return pos;
  const next = typeof cursor === 'number' ? [cursor] : cursor.slice();
  while (next.length <= shard) next.push(0);
  next[shard] = pos;
  return next;
}

/** Whether a stored value is a cursor (a cache written by any version). */
export function isCursor(value: unknown): value is Cursor {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return Array.isArray(value) && value.every((p) => typeof p === 'number' && Number.isSafeInteger(p) && p >= 0);
}
