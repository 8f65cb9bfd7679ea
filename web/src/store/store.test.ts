import { describe, expect, it } from 'vitest';
import { FakeServer } from '../testing/fakeServer';
import { client, signedUp, until } from '../testing/storeClient';
import { lastSeq, unreadOf } from './state';

/** The seqs from `from` to `to`, both included. */
function seqRange(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('AppStore against a fake server', () => {
  it('signs up, has a memo chat, and resumes with the stored token', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    expect(a.store.memoChat()).toBeDefined();
    await a.store.flushCache();
    a.connection.stop();

    const again = client(server, a.storage, a.idb);
    await again.store.start();
    // The cache shows the chats before the connection is up.
    expect(again.store.memoChat()).toBeDefined();
    await until(() => again.store.synced, 'resume');
    expect(again.store.me?.handle).toBe('minji');
    again.connection.stop();
  });

  it("sets a big chat's unread counts from chat.read on the messages it holds", async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.openDirect(b.store.me!.user_id);
    await a.store.openChat(chatId);
    for (const text of ['one', 'two', 'three']) server.post(b.store.me!.user_id, chatId, text);
    await until(() => lastSeq(a.store.messages.get(chatId)) === 3, 'held');
    const third = a.store.messages.get(chatId)!.items[2]!.unread;
    // What a chat of more than 100 members sends instead of pointers (docs/protocol.md).
    for (const s of server.sockets)
      if (s.userId === a.store.me!.user_id)
        s.deliver({ event: 'chat.read', data: { chat_id: chatId, unread: { until_seq: 2, steps: [[1, 40], [2, 41]] } } });
    await until(() => a.store.messages.get(chatId)!.items[1]!.unread === 41, 'counts applied');
    // Seq 3 is past until_seq: as it was.
    expect(a.store.messages.get(chatId)!.items.map((m) => m.unread)).toEqual([40, 41, third]);
    a.connection.stop();
    b.connection.stop();
  });

  it('delivers 1:1 messages live and drops the "1" when the other reads', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    await a.store.addFriend('jun');
    const chatId = await a.store.openDirect(b.store.me!.user_id);
    await a.store.openChat(chatId);
    a.store.send(chatId, 'hello');
    await until(() => a.store.pending.size === 0 && lastSeq(a.store.messages.get(chatId)) === 1, 'sent');
    const mine = a.store.messages.get(chatId)!.items[0]!;
    expect(unreadOf(a.store.chats.get(chatId), mine)).toBe(1);

    await until(() => b.store.chats.get(chatId)?.unread_count === 1, 'b sees unread');
    await b.store.openChat(chatId);
    await until(() => unreadOf(a.store.chats.get(chatId), a.store.messages.get(chatId)!.items[0]!) === 0, 'read');
    expect(b.store.chats.get(chatId)!.unread_count).toBe(0);
    a.connection.stop();
    b.connection.stop();
  });

  it('queues messages while offline and sends each once with its client id', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const memo = a.store.memoChat()!.chat_id;
    await a.store.openChat(memo);
    server.up = false;
    server.dropAll();
    await until(() => a.store.net !== 'online', 'offline');
    const p1 = a.store.send(memo, 'one');
    const p2 = a.store.send(memo, 'two');
    expect(a.store.pendingFor(memo).map((p) => p.status)).toEqual(['queued', 'queued']);
    server.up = true;
    a.connection.reconnectNow();
    await until(() => a.store.pending.size === 0, 'outbox flushed');
    const texts = server.messagesOf(memo).map((m) => `${m.text}:${m.client_id}`);
    expect(texts).toEqual([`one:${p1.client_id}`, `two:${p2.client_id}`]);
    expect(a.store.messages.get(memo)!.items.map((m) => m.text)).toEqual(['one', 'two']);
    a.connection.stop();
  });

  it('resends with the same client id when the response was lost, without doubling', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const memo = a.store.memoChat()!.chat_id;
    await a.store.openChat(memo);
    const sock = [...server.sockets][0]!;
    sock.dropResponsesFor.add('messages.send');
    const p = a.store.send(memo, 'only once');
    await until(() => server.messagesOf(memo).length === 1, 'committed');
    server.dropAll();
    await until(() => a.store.net === 'online' && a.store.pending.size === 0, 'resent');
    expect(server.messagesOf(memo)).toHaveLength(1);
    const sends = server.allSockets.flatMap((s) => s.sent).filter((f) => f.op === 'messages.send');
    expect(sends.every((f) => f.args.client_id === p.client_id)).toBe(true);
    expect(a.store.messages.get(memo)!.items).toHaveLength(1);
    a.connection.stop();
  });

  it('catches up after time offline without gaps or duplicates', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.openDirect(b.store.me!.user_id);
    await a.store.openChat(chatId);
    server.post(b.store.me!.user_id, chatId, 'before');
    await until(() => lastSeq(a.store.messages.get(chatId)) === 1, 'first');

    server.up = false;
    server.dropAll();
    await until(() => a.store.net !== 'online', 'a offline');
    for (let i = 0; i < 450; i++) server.post(b.store.me!.user_id, chatId, `while away ${i}`);
    server.up = true;
    a.connection.reconnectNow();
    await until(() => a.store.net === 'online' && lastSeq(a.store.messages.get(chatId)) === 451, 'caught up');
    // The sync listed the newest 50: they stand in for the newest page; scrolling up pages the rest.
    expect(a.store.messages.get(chatId)!.items.map((m) => m.seq)).toEqual(seqRange(402, 451));
    while (a.store.hasOlder(chatId)) await a.store.loadOlder(chatId);
    expect(a.store.messages.get(chatId)!.items.map((m) => m.seq)).toEqual(seqRange(1, 451));
    a.connection.stop();
    b.connection.stop();
  });

  it('catches up when the server says the live stream lost changes (sync.needed)', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.openDirect(b.store.me!.user_id);
    await a.store.openChat(chatId);
    server.loseEvents = true;
    for (let i = 0; i < 3; i++) server.post(b.store.me!.user_id, chatId, `lost ${i}`);
    server.loseEvents = false;
    expect(lastSeq(a.store.messages.get(chatId))).toBe(0);
    server.tellSync();
    await until(() => lastSeq(a.store.messages.get(chatId)) === 3, 'caught up after sync.needed');
    a.connection.stop();
    b.connection.stop();
  });

  it('keeps its sync cursor per shard and sends it back with the next sync', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const memo = a.store.memoChat()!.chat_id;
    const sock = [...server.sockets][0]!;
    const syncRequests = () => sock.sent.filter((f) => f.op === 'sync');
    expect(a.store.pos).toBe(1); // one position so far: below both that follow
    // A server split into shards numbers each shard's changes on their own, and its events of
    // shard 0 leave `shard` out. The fake server's own events are held back: these come by hand.
    server.loseEvents = true;
    const onShard1 = server.post(a.store.me!.user_id, memo, 'on shard 1');
    const onShard0 = server.post(a.store.me!.user_id, memo, 'on shard 0');
    server.loseEvents = false;
    sock.deliver({ event: 'message.new', pos: 5, shard: 1, data: { message: onShard1 } });
    sock.deliver({ event: 'message.new', pos: 3, data: { message: onShard0 } });
    await until(() => a.store.chats.get(memo)!.last_message?.text === 'on shard 0', 'both applied');
    expect(a.store.pos).toEqual([3, 5]);

    const syncsBefore = syncRequests().length;
    server.tellSync();
    await until(() => syncRequests().length > syncsBefore, 'the next sync');
    expect(syncRequests().at(-1)!.args.since).toEqual([3, 5]);
    a.connection.stop();
  });

  it('keeps two devices of one user in step', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const a2 = client(server);
    await a2.store.start();
    await until(() => a2.store.net === 'online', 'a2 online');
    await a2.store.login('minji', 'password1');
    await until(() => a2.store.synced, 'a2 synced');
    const chatId = await b.store.openDirect(a.store.me!.user_id);
    b.store.send(chatId, 'hi both');
    await until(() => a.store.chats.get(chatId)?.unread_count === 1 && a2.store.chats.get(chatId)?.unread_count === 1, 'both unread');
    await a.store.openChat(chatId);
    await until(() => a2.store.chats.get(chatId)?.unread_count === 0, 'read elsewhere');
    for (const c of [a, b, a2]) c.connection.stop();
  });
  it('applies deletes, keeps known members when a summary omits them, and signs out when revoked', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.openDirect(b.store.me!.user_id);
    await a.store.openChat(chatId);
    const posted = server.post(b.store.me!.user_id, chatId, 'regret');
    await until(() => lastSeq(a.store.messages.get(chatId)) === 1, 'message');
    const sock = [...server.sockets].find((s) => s.userId === a.store.me!.user_id)!;

    sock.deliver({ event: 'message.deleted', pos: 1000, data: { message: { ...posted, text: '', deleted: true } } });
    await until(() => a.store.messages.get(chatId)!.items[0]!.deleted, 'deleted');
    expect(a.store.chats.get(chatId)!.last_message!.deleted).toBe(true);

    const { members: _omitted, ...bare } = a.store.chats.get(chatId)!;
    sock.deliver({ event: 'chat.updated', pos: 1001, data: { chat: { ...bare, title: 'renamed' } } });
    await until(() => a.store.chats.get(chatId)!.title === 'renamed', 'renamed');
    expect(a.store.chats.get(chatId)!.members).toHaveLength(2);
    expect(a.store.pos).toBe(1001);

    sock.deliver({ event: 'session.revoked', data: { device_id: a.store.session!.device_id } });
    await until(() => a.store.session === null, 'signed out');
    expect(a.store.signedOutReason).toBe('revoked');
    expect(a.store.chats.size).toBe(0);
    a.connection.stop();
    b.connection.stop();
  });
});
