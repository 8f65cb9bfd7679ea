import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { ChatSummary, Message } from '../protocol/types';
import { CACHED_MESSAGES_PER_CHAT, Cache } from './cache';

const m = (seq: number): Message => ({
  chat_id: 7,
  seq,
  client_id: `c${seq}`,
  sender_id: 1,
  kind: 'text',
  text: `t${seq}`,
  created_at: seq,
  deleted: false,
  unread: 0,
});

const chat: ChatSummary = {
  chat_id: 7,
  kind: 'memo',
  title: '',
  created_at: 0,
  last_seq: 0,
  last_activity_at: 0,
  read_seq: 0,
  unread_count: 0,
  member_count: 1,
  members: [],
  left: false,
};

describe('Cache', () => {
  it('stores position, chats, a contiguous tail of messages and the outbox', async () => {
    const idb = new IDBFactory();
    const cache = await Cache.open(1, idb);
    const all = Array.from({ length: CACHED_MESSAGES_PER_CHAT + 50 }, (_, i) => m(i + 1));
    await cache.write({ pos: 42, chats: [chat], messages: new Map([[7, all.slice(0, 100)]]) });
    await cache.write({ messages: new Map([[7, all]]) });
    await cache.putPending({ client_id: 'x', chat_id: 7, text: 'hi', created_at: 5, status: 'queued' });
    cache.close();

    const snap = await (await Cache.open(1, idb)).load();
    expect(snap.pos).toBe(42);
    expect(snap.chats.map((c) => c.chat_id)).toEqual([7]);
    const seqs = (snap.messages.get(7) ?? []).map((x) => x.seq).sort((a, b) => a - b);
    expect(seqs).toHaveLength(CACHED_MESSAGES_PER_CHAT);
    expect(seqs[0]).toBe(51);
    expect(seqs[seqs.length - 1]).toBe(CACHED_MESSAGES_PER_CHAT + 50);
    expect(snap.outbox.map((p) => p.client_id)).toEqual(['x']);
  });

  it('forgets a removed chat and everything on destroy', async () => {
    const idb = new IDBFactory();
    const cache = await Cache.open(2, idb);
    await cache.write({ chats: [chat], messages: new Map([[7, [m(1), m(2)]]]) });
    await cache.write({ removedChats: [7] });
    const snap = await cache.load();
    expect(snap.chats).toEqual([]);
    expect(snap.messages.size).toBe(0);
    await cache.destroy();
    expect((await (await Cache.open(2, idb)).load()).pos).toBe(0);
  });
});
