/**
 * Pure helpers over the client's view of chats and messages. Everything here is
 * deterministic and idempotent, so events and history pages can arrive in any order and
 * more than once (the protocol delivers at least once).
 */
import type { Application, ChatSummary, Member, Message, Permission, Profile, Seq, UnreadCounts, UserId } from '../protocol/types';
import { ALL_PERMISSIONS } from '../protocol/types';

/** A contiguous run of a chat's messages, ascending by seq, without gaps. */
export interface ChatMessages {
  items: Message[];
}

/** Seqs start at 1 and have no gaps, so older messages exist exactly when the run starts above 1. */
export function hasOlder(cm: ChatMessages | undefined): boolean {
  return firstSeq(cm) > 1;
}

export type PendingStatus = 'queued' | 'sending' | 'failed';

/** A message written on this device that the server has not confirmed yet. */
export interface PendingMessage {
  client_id: string;
  chat_id: number;
  text: string;
  reply_to?: Seq;
  created_at: number;
  status: PendingStatus;
  /** Error code of the last failed attempt, if any. */
  error?: string;
  /** Slow mode: when sending is allowed again (ms since the epoch), if the server said. */
  retry_at?: number;
}

export function firstSeq(cm: ChatMessages | undefined): Seq {
  return cm?.items[0]?.seq ?? 0;
}

export function lastSeq(cm: ChatMessages | undefined): Seq {
  return cm?.items[cm.items.length - 1]?.seq ?? 0;
}

/**
 * Merges messages into a contiguous run. Incoming copies replace held ones with the same
 * seq (a later copy may carry `deleted`). Messages that would leave a gap are dropped and
 * reported, so the caller can fetch what lies between.
 */
export function mergeMessages(
  cm: ChatMessages | undefined,
  incoming: readonly Message[],
): { next: ChatMessages; gap: boolean } {
  const items = cm ? cm.items : [];
  if (incoming.length === 0) return { next: cm ?? { items: [] }, gap: false };
  const bySeq = new Map<Seq, Message>();
  for (const m of items) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  // Keep the longest contiguous run that contains what we already held (or, when nothing
  // was held, the run that ends with the newest incoming message).
  const anchor = items.length ? (items[0] as Message).seq : (seqs[seqs.length - 1] as Seq);
  const at = seqs.indexOf(anchor);
  let lo = at;
  let hi = at;
  while (lo > 0 && (seqs[lo - 1] as Seq) === (seqs[lo] as Seq) - 1) lo--;
  while (hi < seqs.length - 1 && (seqs[hi + 1] as Seq) === (seqs[hi] as Seq) + 1) hi++;
  const run = seqs.slice(lo, hi + 1).map((s) => bySeq.get(s) as Message);
  const gap = run.length !== seqs.length;
  const unchanged =
    run.length === items.length && run.every((m, i) => m === items[i]) && !gap && cm !== undefined;
  if (unchanged) return { next: cm, gap };
  return { next: { items: run }, gap };
}

/** Replaces the held copy of a message (for example after a delete); no-op if not held. */
export function replaceMessage(cm: ChatMessages | undefined, msg: Message): ChatMessages | undefined {
  if (!cm) return cm;
  const first = firstSeq(cm);
  const idx = msg.seq - first;
  if (idx < 0 || idx >= cm.items.length) return cm;
  const items = cm.items.slice();
  items[idx] = msg;
  return { items };
}

/** Whether the summary lists every member (chats.get does; list pages may not). */
export function hasAllMembers(chat: ChatSummary): boolean {
  return chat.members.length >= chat.member_count;
}

/**
 * Chats of more than this many members get the messages' unread counts in chat.read instead
 * of every member's read pointer (docs/protocol.md, "Read counts").
 */
export const READ_POINTERS_UP_TO = 100;

/**
 * KakaoTalk's "1": how many current members have not read the message. Computed from the
 * members' read pointers when all are known and the chat is small enough to be told of each
 * one's moves; otherwise the server's count, kept current by chat.read.
 */
export function unreadOf(chat: ChatSummary | undefined, msg: Message): number {
  if (msg.kind === 'system' || msg.deleted) return 0;
  if (!chat || chat.member_count > READ_POINTERS_UP_TO || !hasAllMembers(chat)) return msg.unread;
  let n = 0;
  for (const m of chat.members) if (m.user_id !== msg.sender_id && m.read_seq < msg.seq) n++;
  return n;
}

/** Moves one member's read pointer forward (never back). Returns the same object if unchanged. */
export function applyRead(chat: ChatSummary, userId: UserId, readSeq: Seq, me: UserId): ChatSummary {
  return applyReads(chat, [{ user_id: userId, read_seq: readSeq }], me);
}

/** Moves members' read pointers forward (never back), in one pass over the members. */
export function applyReads(chat: ChatSummary, reads: readonly { user_id: UserId; read_seq: Seq }[], me: UserId): ChatSummary {
  const target = new Map<UserId, Seq>();
  for (const r of reads) target.set(r.user_id, Math.max(target.get(r.user_id) ?? 0, r.read_seq));
  let changed = false;
  const members = chat.members.map((m) => {
    const to = target.get(m.user_id);
    if (to === undefined || m.read_seq >= to) return m;
    changed = true;
    return { ...m, read_seq: to };
  });
  let next = changed ? { ...chat, members } : chat;
  const mine = target.get(me);
  if (mine !== undefined && mine > chat.read_seq) {
    next = { ...next, read_seq: mine, unread_count: mine >= chat.last_seq ? 0 : next.unread_count };
    changed = true;
  }
  return changed ? next : chat;
}

/**
 * Sets the server's unread counts (a chat.read of a big chat) on the held messages they
 * cover. Returns the same object if nothing changed.
 */
export function applyUnreadCounts(cm: ChatMessages | undefined, counts: UnreadCounts): ChatMessages | undefined {
  const { steps, until_seq } = counts;
  if (!cm || steps.length === 0 || cm.items.length === 0) return cm;
  let changed = false;
  let step = 0;
  const items = cm.items.map((m) => {
    if (m.seq < steps[0]![0] || m.seq > until_seq) return m;
    while (step + 1 < steps.length && steps[step + 1]![0] <= m.seq) step++;
    const unread = steps[step]![1];
    if (m.unread === unread) return m;
    changed = true;
    return { ...m, unread };
  });
  return changed ? { ...cm, items } : cm;
}

/** Counts others' messages after the read pointer, if the held run covers that range. */
export function countUnread(chat: ChatSummary, cm: ChatMessages | undefined, me: UserId): number | null {
  if (chat.read_seq >= chat.last_seq) return 0;
  if (!cm || firstSeq(cm) > chat.read_seq + 1 || lastSeq(cm) < chat.last_seq) return null;
  let n = 0;
  for (const m of cm.items) if (m.seq > chat.read_seq && m.sender_id !== me) n++;
  return n;
}

/** Updates a summary for a message that just arrived (idempotent by seq). */
export function applyNewMessage(chat: ChatSummary, msg: Message, me: UserId): ChatSummary {
  let next = chat;
  if (msg.seq > chat.last_seq) {
    const mine = msg.sender_id === me;
    next = {
      ...chat,
      last_seq: msg.seq,
      last_message: msg,
      last_activity_at: Math.max(chat.last_activity_at, msg.created_at),
      read_seq: mine ? msg.seq : chat.read_seq,
      unread_count: mine ? 0 : chat.unread_count + 1,
    };
  } else if (chat.last_message?.seq === msg.seq) {
    next = { ...chat, last_message: msg };
  }
  // The sender's pointer moves to its own message.
  return applyRead(next, msg.sender_id, msg.seq, me);
}

/** Newest activity first; ties broken by id so the order is stable. */
export function sortChats(chats: Iterable<ChatSummary>): ChatSummary[] {
  return [...chats]
    .filter((c) => !c.left)
    .sort((a, b) => b.last_activity_at - a.last_activity_at || b.chat_id - a.chat_id);
}

// ---- open chats ----------------------------------------------------------------------

export function isOpenChat(chat: ChatSummary | undefined): boolean {
  return chat?.kind === 'open';
}

/**
 * The id that stands for me in a chat: `self_id` when the server sent it (my member id in an
 * open chat), else my user id. Compare senders and read pointers with this, never with the
 * account id.
 */
export function selfOf(chat: ChatSummary | undefined, me: UserId): UserId {
  return chat?.self_id ?? me;
}

export function selfMember(chat: ChatSummary, me: UserId): Member | undefined {
  const self = selfOf(chat, me);
  return chat.members.find((m) => m.user_id === self);
}

/** Whether a member may do something: the owner may do everything, an admin what it was given. */
export function memberCan(m: Member | undefined, perm: Permission): boolean {
  if (!m) return false;
  if (m.role === 'owner') return true;
  if (m.role !== 'admin') return false;
  return (m.permissions ?? ALL_PERMISSIONS).includes(perm);
}

export function can(chat: ChatSummary, me: UserId, perm: Permission): boolean {
  return memberCan(selfMember(chat, me), perm);
}

/** Staff: the owner and admins. */
export function isStaff(chat: ChatSummary, me: UserId): boolean {
  const m = selfMember(chat, me);
  return m?.role === 'owner' || m?.role === 'admin';
}

/** Changes the held copies of some messages (a sync's deleted or hidden seqs); same object if none held. */
export function patchMessages(cm: ChatMessages | undefined, seqs: readonly Seq[], patch: (m: Message) => Message): ChatMessages | undefined {
  if (!cm || seqs.length === 0) return cm;
  const first = firstSeq(cm);
  let items: Message[] | null = null;
  for (const seq of seqs) {
    const idx = seq - first;
    if (idx < 0 || idx >= cm.items.length) continue;
    items ??= cm.items.slice();
    items[idx] = patch(items[idx] as Message);
  }
  return items ? { items } : cm;
}

export const hideMessage = (m: Message): Message => ({ ...m, hidden: true, text: '' });
export const deleteMessageLocally = (m: Message): Message => ({ ...m, deleted: true, text: '' });

/** The newest application of mine for a room that is still waiting for a decision. */
export function pendingApplicationFor(apps: Iterable<Application>, chatId: number): Application | undefined {
  let best: Application | undefined;
  for (const a of apps) {
    if (a.chat_id !== chatId || a.state !== 'pending') continue;
    if (!best || a.created_at > best.created_at) best = a;
  }
  return best;
}

/** Seconds named in a server message such as "slow mode: wait 12 s", if any. */
export function secondsIn(text: string): number | null {
  const m = /(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

export function isGroupLike(chat: ChatSummary): boolean {
  return chat.kind !== 'direct' && chat.kind !== 'memo';
}

/** The member a 1:1 chat is with (the other one). */
export function peerOf(chat: ChatSummary, me: UserId): Profile | undefined {
  return chat.members.find((m) => m.user_id !== me)?.profile;
}

/** Days since the epoch in local time, for day separators. */
export function localDay(ms: number): number {
  const d = new Date(ms);
  return Math.floor((ms - d.getTimezoneOffset() * 60_000) / 86_400_000);
}
