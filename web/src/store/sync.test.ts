import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/types';
import { FakeServer } from '../testing/fakeServer';
import { client, signedUp, until } from '../testing/storeClient';
import { lastSeq } from './state';

type Device = Awaited<ReturnType<typeof signedUp>>;

/** The seqs from `from` to `to`, both included. */
function seqRange(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The requests a user's connections sent, from the socket at index `from` of `server.allSockets` on. */
function sentBy(server: FakeServer, userId: number, from = 0) {
  return server.allSockets
    .slice(from)
    .filter((s) => s.userId === userId)
    .flatMap((s) => s.sent);
}

function seqsOf(d: Device, chatId: number): number[] {
  return (d.store.messages.get(chatId)?.items ?? []).map((m) => m.seq);
}

async function goOffline(server: FakeServer, d: Device): Promise<void> {
  server.up = false;
  server.dropAll();
  await until(() => d.store.net !== 'online', 'offline');
}

/** Lets the device connect again; returns the index of its first new socket in `server.allSockets`. */
async function reconnect(server: FakeServer, d: Device): Promise<number> {
  const from = server.allSockets.length;
  server.up = true;
  d.connection.reconnectNow();
  await until(() => d.store.net === 'online', 'back online');
  return from;
}

/** `a` opens its 1:1 chat with `peer`, which posts one message that `a` reads; then `a` closes it. */
async function heldAndRead(server: FakeServer, a: Device, peer: Device): Promise<number> {
  const chatId = await a.store.openDirect(peer.store.me!.user_id);
  await a.store.openChat(chatId);
  server.post(peer.store.me!.user_id, chatId, 'before');
  await until(() => lastSeq(a.store.messages.get(chatId)) === 1 && a.store.chats.get(chatId)!.read_seq === 1, 'held and read');
  await a.store.openChat(null);
  return chatId;
}

describe('sync with messages', () => {
  it('shows the missed messages of every changed chat without messages.history', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const c = await signedUp(server, 'seo');
    const many = await heldAndRead(server, a, b);
    const few = await heldAndRead(server, a, c);

    await goOffline(server, a);
    for (let i = 0; i < 80; i++) server.post(b.store.me!.user_id, many, `many ${i}`);
    for (let i = 0; i < 5; i++) server.post(c.store.me!.user_id, few, `few ${i}`);
    const from = await reconnect(server, a);

    const sent = () => sentBy(server, a.store.me!.user_id, from);
    expect(sent().find((f) => f.op === 'sync')!.args.messages).toBe(50);
    // auth.resume and the first sync page left together, before any answer: one round trip.
    const socket = server.allSockets.slice(from).find((s) => s.sent[0]?.op === 'auth.resume')!;
    expect(socket.sent.slice(0, 2).map((f) => f.op)).toEqual(['auth.resume', 'sync']);
    expect(socket.answeredBefore[1]).toBe(0);
    expect(sent().filter((f) => f.op === 'messages.history')).toEqual([]);
    // Fewer than asked for: merged into the held run, complete.
    expect(seqsOf(a, few)).toEqual(seqRange(1, 6));
    expect(a.store.chats.get(few)!.unread_count).toBe(5);
    // More: the newest 50 stand in for the newest page.
    expect(seqsOf(a, many)).toEqual(seqRange(32, 81));
    expect(a.store.hasOlder(many)).toBe(true);
    expect(a.store.chats.get(many)!.unread_count).toBe(80);
    expect(a.store.totalUnread).toBe(85);

    // Opened, a chat is current at once: it is only marked read.
    await a.store.openChat(few);
    expect(sent().filter((f) => f.op === 'messages.history')).toEqual([]);
    expect(sent().filter((f) => f.op === 'messages.read').map((f) => f.args)).toEqual([{ chat_id: few, seq: 6 }]);
    expect(a.store.chats.get(few)!.unread_count).toBe(0);

    // Scrolling up pages what lies before the tail, without gaps or duplicates.
    await a.store.openChat(many);
    while (a.store.hasOlder(many)) await a.store.loadOlder(many);
    expect(seqsOf(a, many)).toEqual(seqRange(1, 81));
    expect(sent().filter((f) => f.op === 'messages.history').every((f) => f.args.before_seq !== undefined)).toBe(true);
    for (const d of [a, b, c]) d.connection.stop();
  });

  it('pages the gap when the list does not reach the held messages', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await heldAndRead(server, a, b);

    await goOffline(server, a);
    for (let i = 0; i < 10; i++) server.post(b.store.me!.user_id, chatId, `away ${i}`);
    server.syncMessageBudget = 4; // the page's cap cuts the list to seqs 8..11
    const from = await reconnect(server, a);
    expect(seqsOf(a, chatId)).toEqual([1]);
    expect(a.store.chats.get(chatId)!.unread_count).toBe(10);

    await a.store.openChat(chatId);
    expect(seqsOf(a, chatId)).toEqual(seqRange(1, 11));
    const history = sentBy(server, a.store.me!.user_id, from).filter((f) => f.op === 'messages.history');
    expect(history.map((f) => f.args)).toEqual([{ chat_id: chatId, after_seq: 1, limit: 200 }]);
    a.connection.stop();
    b.connection.stop();
  });

  it('gives a new device each chat from its first sync, knowing where short ones begin', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const short = await b.store.openDirect(a.store.me!.user_id);
    const long = await b.store.createGroup('long', [a.store.me!.user_id]);
    for (let i = 0; i < 3; i++) server.post(b.store.me!.user_id, short, `short ${i}`);
    for (let i = 0; i < 80; i++) server.post(b.store.me!.user_id, long, `long ${i}`);

    const a2 = client(server);
    const from = server.allSockets.length;
    await a2.store.start();
    await until(() => a2.store.net === 'online', 'a2 online');
    await a2.store.login('minji', 'password1');
    await until(() => a2.store.synced, 'a2 synced');
    expect(seqsOf(a2, short)).toEqual([1, 2, 3]);
    expect(a2.store.hasOlder(short)).toBe(false);
    expect(seqsOf(a2, long)).toEqual(seqRange(31, 80));
    expect(a2.store.hasOlder(long)).toBe(true);
    await a2.store.openChat(short);
    expect(sentBy(server, a.store.me!.user_id, from).filter((f) => f.op === 'messages.history')).toEqual([]);
    for (const d of [a, b, a2]) d.connection.stop();
  });

  it('takes an outbox message the sync lists as sent, without sending it again', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const memo = a.store.memoChat()!.chat_id;
    await a.store.openChat(memo);
    // Stored, but neither the response nor the event reaches the device.
    [...server.sockets][0]!.dropResponsesFor.add('messages.send');
    server.loseEvents = true;
    a.store.send(memo, 'only once');
    await until(() => server.messagesOf(memo).length === 1, 'stored');
    server.loseEvents = false;

    await goOffline(server, a);
    await reconnect(server, a);
    expect(a.store.pending.size).toBe(0);
    expect(seqsOf(a, memo)).toEqual([1]);
    expect(sentBy(server, a.store.me!.user_id).filter((f) => f.op === 'messages.send')).toHaveLength(1);
    a.connection.stop();
  });

  it('applies live events that arrive during the sync without doubling messages or unread counts', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await heldAndRead(server, a, b);
    await goOffline(server, a);
    server.post(b.store.me!.user_id, chatId, 'away');

    // While the sync is answered, another message comes live, and once more (at least once
    // delivery) with a later position than the sync's.
    const handle = server.handle.bind(server);
    let during: Message | null = null;
    server.handle = (sock, f) => {
      if (f.op === 'sync' && !during && sock.userId === a.store.me!.user_id) {
        during = server.post(b.store.me!.user_id, chatId, 'during the sync');
        sock.deliver({ event: 'message.new', pos: 1_000_000, data: { message: during } });
      }
      handle(sock, f);
    };
    await reconnect(server, a);
    expect(during).not.toBeNull();
    expect(a.store.pos).toBe(1_000_000); // the second copy was applied after the sync
    expect(seqsOf(a, chatId)).toEqual([1, 2, 3]);
    expect(a.store.chats.get(chatId)!.unread_count).toBe(2);
    a.connection.stop();
    b.connection.stop();
  });
});
