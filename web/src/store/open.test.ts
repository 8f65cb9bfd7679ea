import { describe, expect, it } from 'vitest';
import { FakeServer } from '../testing/fakeServer';
import { signedUp, until } from '../testing/storeClient';
import { can, isStaff, lastSeq, pendingApplicationFor, unreadOf } from './state';

describe('open chats against a fake server', () => {
  it('uses self_id (the member id), not the account id, for my messages and read counts', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.createRoom({ title: '강남 독서모임', tags: ['독서'] }, { kind: 'nickname', nickname: '책벌레' });
    const selfA = a.store.selfId(chatId);
    expect(selfA).not.toBe(a.store.me!.user_id);

    const found = await b.store.searchRooms('독서');
    expect(found.rooms.map((r) => r.chat_id)).toEqual([chatId]);
    const joined = await b.store.joinRoom({ code: found.rooms[0]!.code }, { kind: 'nickname', nickname: '곰돌이' });
    expect(joined.chat_id).toBe(chatId);
    await a.store.openChat(chatId);
    await b.store.openChat(chatId);

    a.store.send(chatId, '안녕하세요');
    await until(() => a.store.pending.size === 0 && lastSeq(a.store.messages.get(chatId)) >= 2, 'sent');
    const chatA = a.store.chats.get(chatId)!;
    const mine = a.store.messages.get(chatId)!.items.find((m) => m.kind === 'text')!;
    // My own send neither counts as unread for me nor leaves a pending copy behind.
    expect(mine.sender_id).toBe(selfA);
    expect(chatA.unread_count).toBe(0);
    expect(chatA.read_seq).toBe(mine.seq);
    // Names come from room profiles, by member id.
    expect(a.store.memberProfile(chatA, selfA)?.display_name).toBe('책벌레');
    await until(() => lastSeq(b.store.messages.get(chatId)) === mine.seq, 'b has it');
    expect(b.store.memberProfile(b.store.chats.get(chatId), mine.sender_id)?.display_name).toBe('책벌레');
    // b reads it: the "1" on a's message goes, by member-id read pointers.
    await until(() => unreadOf(a.store.chats.get(chatId), mine) === 0, 'read by b');
    // A member id never resolves as an account profile.
    expect(a.store.profileOf(selfA)).toBeUndefined();
    a.connection.stop();
    b.connection.stop();
  });

  it('shows hidden messages as hidden, live and after a sync', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.createRoom({ title: 'room' }, { kind: 'nickname', nickname: 'A' });
    await b.store.joinRoom({ chat_id: chatId }, { kind: 'nickname', nickname: 'B' });
    await a.store.openChat(chatId);
    server.post(b.store.me!.user_id, chatId, 'spam spam');
    const seq = server.messagesOf(chatId).length;
    await until(() => lastSeq(a.store.messages.get(chatId)) === seq, 'message');

    server.hide(chatId, seq);
    await until(() => a.store.messages.get(chatId)!.items.at(-1)!.hidden === true, 'hidden live');
    expect(a.store.messages.get(chatId)!.items.at(-1)!.text).toBe('');
    expect(a.store.chats.get(chatId)!.last_message!.hidden).toBe(true);

    server.hide(chatId, seq, false);
    await until(() => a.store.messages.get(chatId)!.items.at(-1)!.text === 'spam spam', 'restored live');

    // Offline: a sync summary's hidden_seqs blank the held copy.
    const sock = [...server.sockets].find((s) => s.userId === a.store.me!.user_id)!;
    const { members: _m, ...bare } = a.store.chats.get(chatId)!;
    sock.deliver({ event: 'chat.updated', pos: 5000, data: { chat: bare } });
    (a.store as unknown as { applySeqChanges(c: unknown): void }).applySeqChanges({ ...bare, hidden_seqs: [seq] });
    expect(a.store.messages.get(chatId)!.items.at(-1)!.hidden).toBe(true);
    a.connection.stop();
    b.connection.stop();
  });

  it('applies to a community, and becomes a member when staff approve', async () => {
    const server = new FakeServer();
    const owner = await signedUp(server, 'owner');
    const bob = await signedUp(server, 'bob');
    const chatId = await owner.store.createRoom(
      {
        title: '판교 개발자 모임',
        join_policy: 'approval',
        form: [
          { key: 'real_name', label: '실명', type: 'real_name', required: true },
          { key: 'intro', label: '자기소개', type: 'text', required: false },
        ],
      },
      { kind: 'nickname', nickname: '방장' },
    );
    const staffHeard: number[] = [];
    owner.store.onApplication((app, mine) => {
      if (!mine) staffHeard.push(app.application_id);
    });
    const preview = await bob.store.previewRoom({ chat_id: chatId });
    expect(preview.room.join_policy).toBe('approval');
    const res = await bob.store.joinRoom({ chat_id: chatId }, { kind: 'nickname', nickname: '밥' }, { answers: { real_name: '김밥' } });
    expect(res.chat_id).toBeUndefined();
    expect(res.application!.state).toBe('pending');
    expect(pendingApplicationFor(bob.store.myApplications.values(), chatId)?.application_id).toBe(res.application!.application_id);
    expect(bob.store.chats.has(chatId)).toBe(false);

    await until(() => staffHeard.length === 1, 'staff told');
    expect(owner.store.staffQueue.get(chatId)?.size).toBe(1);
    const queue = await owner.store.roomApplications(chatId);
    expect(queue[0]!.answers).toEqual({ real_name: '김밥' });
    expect(queue[0]!.profile.user_id).toBe(0);
    await owner.store.decideApplication(chatId, queue[0]!.application_id, true);
    expect(owner.store.staffQueue.get(chatId)?.size).toBe(0);

    await until(() => bob.store.myApplications.get(res.application!.application_id)?.state === 'approved', 'approved');
    await until(() => bob.store.chats.has(chatId), 'member');
    expect(bob.store.chats.get(chatId)!.self_id).not.toBe(bob.store.me!.user_id);
    const mine = await bob.store.loadMyApplications();
    expect(mine[0]!.room?.title).toBe('판교 개발자 모임');
    owner.connection.stop();
    bob.connection.stop();
  });

  it('keeps the room current from open.updated and saves a nickname profile', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    expect(await a.store.loadSavedNickname()).toBeNull();
    await a.store.saveNickname('책벌레', '');
    expect(a.store.savedNickname?.nickname).toBe('책벌레');
    const chatId = await a.store.createRoom({ title: 'room' }, { kind: 'saved' });
    const chat = a.store.chats.get(chatId)!;
    expect(a.store.memberProfile(chat, chat.self_id!)?.display_name).toBe('책벌레');
    server.setNotice(chatId, '매주 금요일');
    await until(() => a.store.chats.get(chatId)!.open?.notice?.text === '매주 금요일', 'notice');
    a.connection.stop();
  });

  it('staff roles: permissions follow set_role, and a reported message is hidden for everyone', async () => {
    const server = new FakeServer();
    const a = await signedUp(server, 'minji');
    const b = await signedUp(server, 'jun');
    const chatId = await a.store.createRoom({ title: 'room', report_threshold: 1 }, { kind: 'nickname', nickname: 'A' });
    await b.store.joinRoom({ chat_id: chatId }, { kind: 'nickname', nickname: 'B' });
    await a.store.openChat(chatId);
    await b.store.openChat(chatId);
    const bId = b.store.selfId(chatId);
    await until(() => a.store.chats.get(chatId)!.members.some((m) => m.user_id === bId), 'a sees b');
    expect(isStaff(b.store.chats.get(chatId)!, b.store.me!.user_id)).toBe(false);

    await a.store.setRole(chatId, bId, 'admin', ['approve', 'kick']);
    await until(() => b.store.chats.get(chatId)!.members.find((m) => m.user_id === bId)?.role === 'admin', 'b is admin');
    const bChat = b.store.chats.get(chatId)!;
    expect(can(bChat, b.store.me!.user_id, 'kick')).toBe(true);
    expect(can(bChat, b.store.me!.user_id, 'ban')).toBe(false);

    const spam = server.post(a.store.me!.user_id, chatId, 'spam');
    await until(() => lastSeq(b.store.messages.get(chatId)) === spam.seq, 'b has it');
    await b.store.report(chatId, { seq: spam.seq }, 'spam');
    await until(() => a.store.messages.get(chatId)!.items.at(-1)!.hidden === true, 'hidden for a');
    const reports = await a.store.reports(chatId);
    expect(reports[0]!.message!.text).toBe('spam');
    a.connection.stop();
    b.connection.stop();
  });
});
