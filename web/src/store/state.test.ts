import { describe, expect, it } from 'vitest';
import type { ChatSummary, Message } from '../protocol/types';
import {
  applyNewMessage,
  applyRead,
  applyReads,
  applyUnreadCounts,
  can,
  countUnread,
  hasOlder,
  hideMessage,
  isStaff,
  memberCan,
  mergeMessages,
  patchMessages,
  pendingApplicationFor,
  secondsIn,
  selfOf,
  unreadOf,
} from './state';

const msg = (seq: number, sender = 1, extra: Partial<Message> = {}): Message => ({
  chat_id: 1,
  seq,
  client_id: `c${seq}`,
  sender_id: sender,
  kind: 'text',
  text: `m${seq}`,
  created_at: 1000 + seq,
  deleted: false,
  unread: 0,
  ...extra,
});

const member = (user_id: number, read_seq: number) => ({
  user_id,
  role: 'member' as const,
  read_seq,
  joined_seq: 0,
  profile: { user_id, handle: `u${user_id}`, display_name: `U${user_id}`, status_message: '', avatar: '' },
});

const chat = (extra: Partial<ChatSummary> = {}): ChatSummary => ({
  chat_id: 1,
  kind: 'group',
  title: 't',
  created_at: 0,
  last_seq: 3,
  last_activity_at: 0,
  read_seq: 3,
  unread_count: 0,
  member_count: 3,
  members: [member(1, 3), member(2, 1), member(3, 2)],
  left: false,
  ...extra,
});

describe('mergeMessages', () => {
  it('dedupes by seq and keeps order', () => {
    const a = mergeMessages(undefined, [msg(3), msg(4)]).next;
    const { next, gap } = mergeMessages(a, [msg(4), msg(5), msg(2)]);
    expect(next.items.map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    expect(gap).toBe(false);
    expect(hasOlder(next)).toBe(true);
  });

  it('refuses to open a gap and reports it', () => {
    const a = mergeMessages(undefined, [msg(1), msg(2)]).next;
    const { next, gap } = mergeMessages(a, [msg(5)]);
    expect(next.items.map((m) => m.seq)).toEqual([1, 2]);
    expect(gap).toBe(true);
    expect(hasOlder(next)).toBe(false);
  });

  it('replaces a held copy with a deleted one and returns the same object when nothing changes', () => {
    const a = mergeMessages(undefined, [msg(1), msg(2)]).next;
    const b = mergeMessages(a, [msg(2, 1, { deleted: true, text: '' })]).next;
    expect(b.items[1]!.deleted).toBe(true);
    expect(mergeMessages(b, []).next).toBe(b);
  });
});

describe('read counts', () => {
  it('counts members whose pointer is below the message, never the sender', () => {
    const c = chat();
    expect(unreadOf(c, msg(1))).toBe(0);
    expect(unreadOf(c, msg(2))).toBe(1);
    expect(unreadOf(c, msg(3))).toBe(2);
    expect(unreadOf(c, msg(3, 2))).toBe(1);
    expect(unreadOf(c, msg(3, 1, { kind: 'system' }))).toBe(0);
  });

  it('falls back to the served count when members are not all known', () => {
    expect(unreadOf(chat({ member_count: 5 }), msg(3, 1, { unread: 4 }))).toBe(4);
  });

  it('moves pointers only forward and drops the count live', () => {
    const c = chat();
    const c2 = applyRead(c, 2, 3, 1);
    expect(unreadOf(c2, msg(3))).toBe(1);
    expect(applyRead(c2, 2, 2, 1)).toBe(c2);
  });

  it('applies a batch of receipts at once, each pointer only forward', () => {
    const c = chat({ read_seq: 1, last_seq: 3, unread_count: 2, members: [member(1, 1), member(2, 1), member(3, 2)] });
    const next = applyReads(c, [{ user_id: 2, read_seq: 3 }, { user_id: 3, read_seq: 1 }, { user_id: 1, read_seq: 3 }], 1);
    expect(next.members.map((m) => m.read_seq)).toEqual([3, 3, 2]);
    expect(next.read_seq).toBe(3);
    expect(next.unread_count).toBe(0);
    expect(unreadOf(next, msg(3))).toBe(1); // member 3 is still at 2
    expect(applyReads(next, [{ user_id: 3, read_seq: 2 }], 1)).toBe(next);
  });

  it('applies a new message once, whichever way it arrives', () => {
    const c = chat({ read_seq: 3 });
    const m = msg(4, 2);
    const once = applyNewMessage(c, m, 1);
    const twice = applyNewMessage(once, m, 1);
    expect(once.unread_count).toBe(1);
    expect(twice.unread_count).toBe(1);
    expect(twice.last_seq).toBe(4);
    // The sender's own pointer moved to its message.
    expect(twice.members.find((x) => x.user_id === 2)!.read_seq).toBe(4);
  });

  it("sets a big chat's unread counts on the held messages the steps cover", () => {
    const held = mergeMessages(undefined, [2, 3, 4, 5, 6, 7].map((s) => msg(s, 2, { unread: 9 }))).next;
    // Seqs 3..4 have 5 unread, 5 has 6, 6..7 are beyond until_seq; 2 is before the first step.
    const next = applyUnreadCounts(held, { until_seq: 5, steps: [[3, 5], [5, 6]] })!;
    expect(next.items.map((m) => m.unread)).toEqual([9, 5, 5, 6, 9, 9]);
    expect(applyUnreadCounts(next, { until_seq: 5, steps: [[3, 5], [5, 6]] })).toBe(next);
    expect(applyUnreadCounts(undefined, { until_seq: 5, steps: [[3, 5]] })).toBeUndefined();
    // A big chat shows the server's counts, even when chats.get gave it every member: its
    // members' pointers are not kept current.
    const big = chat({ member_count: 500, members: [member(1, 0)] });
    expect(unreadOf(big, next.items[3]!)).toBe(6);
    const everyone = Array.from({ length: 101 }, (_, i) => member(i + 1, 0));
    expect(unreadOf(chat({ member_count: 101, members: everyone }), next.items[3]!)).toBe(6);
  });

  it('recounts my unread messages from the held run', () => {
    const c = chat({ read_seq: 1, last_seq: 4, unread_count: 9 });
    const held = mergeMessages(undefined, [msg(1, 2), msg(2, 2), msg(3, 1), msg(4, 2)]).next;
    expect(countUnread(c, held, 1)).toBe(2);
    expect(countUnread(c, mergeMessages(undefined, [msg(4)]).next, 1)).toBeNull();
  });
});

describe('open chat helpers', () => {
  it('decides permissions by role: the owner has all, an admin what it was given', () => {
    const owner = { ...member(900, 0), role: 'owner' as const };
    const admin = { ...member(901, 0), role: 'admin' as const, permissions: ['approve' as const] };
    const adminAll = { ...member(902, 0), role: 'admin' as const };
    expect(memberCan(owner, 'ban')).toBe(true);
    expect(memberCan(admin, 'approve')).toBe(true);
    expect(memberCan(admin, 'ban')).toBe(false);
    expect(memberCan(adminAll, 'ban')).toBe(true);
    expect(memberCan(member(903, 0), 'approve')).toBe(false);
    const c = chat({ kind: 'open', self_id: 901, members: [owner, admin], member_count: 2 });
    expect(selfOf(c, 1)).toBe(901);
    expect(can(c, 1, 'approve')).toBe(true);
    expect(can(c, 1, 'kick')).toBe(false);
    expect(isStaff(c, 1)).toBe(true);
    expect(selfOf(chat(), 1)).toBe(1);
  });

  it('patches held messages by seq (hidden, deleted) and ignores seqs not held', () => {
    const held = mergeMessages(undefined, [msg(4), msg(5), msg(6)]).next;
    const next = patchMessages(held, [5, 9], hideMessage)!;
    expect(next.items[1]).toMatchObject({ seq: 5, hidden: true, text: '' });
    expect(next.items[0]).toBe(held.items[0]);
    expect(patchMessages(held, [1, 2], hideMessage)).toBe(held);
  });

  it('finds the pending application for a room and reads seconds from a slow-mode message', () => {
    const app = (id: number, state: 'pending' | 'rejected', at: number) => ({
      application_id: id,
      chat_id: 7,
      state,
      profile: member(0, 0).profile,
      created_at: at,
      expires_at: at + 1,
      decided_at: null,
      reason: null,
    });
    expect(pendingApplicationFor([app(1, 'rejected', 1), app(2, 'pending', 2)], 7)?.application_id).toBe(2);
    expect(pendingApplicationFor([app(1, 'rejected', 1)], 7)).toBeUndefined();
    expect(secondsIn('slow mode: wait 12 s')).toBe(12);
    expect(secondsIn('slow down')).toBeNull();
  });
});
