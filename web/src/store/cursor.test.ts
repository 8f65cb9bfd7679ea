import { describe, expect, it } from 'vitest';
import { advance, isAhead, isCursor, positionOf } from './cursor';

describe('sync cursor', () => {
  it('stays a number on a server with one shard', () => {
    let c = advance(0, 5);
    expect(c).toBe(5);
    expect(isAhead(c, 5)).toBe(false);
    expect(isAhead(c, 6)).toBe(true);
    c = advance(c, 3); // never backwards
    expect(c).toBe(5);
  });

  it('keeps one position per shard once a shard other than 0 is seen', () => {
    let c = advance(7, 4, 1);
    expect(c).toEqual([7, 4]);
    expect(isAhead(c, 5, 0)).toBe(false); // shard 0 is at 7
    expect(isAhead(c, 5, 1)).toBe(true); // shard 1 only at 4
    c = advance(c, 9, 3);
    expect(c).toEqual([7, 4, 0, 9]);
    expect(positionOf(c, 2)).toBe(0);
    expect(advance(c, 2, 1)).toBe(c); // behind: unchanged
  });

  it('accepts a server answer of either form and refuses anything else from the cache', () => {
    expect(isCursor(12)).toBe(true);
    expect(isCursor([1, 2])).toBe(true);
    expect(isCursor(-1)).toBe(false);
    expect(isCursor([1, 'x'])).toBe(false);
    expect(isCursor(null)).toBe(false);
    expect(positionOf([3, 8], 1)).toBe(8);
    expect(positionOf(3, 1)).toBe(0);
  });
});
