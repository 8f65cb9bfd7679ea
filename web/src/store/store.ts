/**
 * The client's state and the rules that keep it in step with the server: sign-in and
 * resume on every connection, `sync` catch-up, live events, lazy history, the outbox of
 * unsent messages, read pointers, and the IndexedDB cache. The UI reads from it and calls
 * its methods; it never talks to the connection itself.
 */
import type { Connection } from '../protocol/connection';
import { ConnectionError, ProtocolError, isTransient } from '../protocol/errors';
import type {
  Application,
  ApplicationState,
  AuditEntry,
  Ban,
  ChatId,
  ChatSummary,
  Device,
  DeviceInfo,
  Member,
  Message,
  OpArgs,
  OpResult,
  Permission,
  Profile,
  Report,
  Room,
  RoomProfileArg,
  RoomRef,
  RoomSettings,
  SavedNickname,
  Seq,
  ServerEvent,
  UnreadCounts,
  UserId,
  WireChat,
} from '../protocol/types';
import type { Cache, CacheWrite } from './cache';
import { advance, isAhead, isCursor, type Cursor } from './cursor';
import { loadSession, newClientId, saveSession, type Session } from './session';
import {
  applyNewMessage,
  applyReads,
  applyUnreadCounts,
  type ChatMessages,
  countUnread,
  firstSeq,
  deleteMessageLocally,
  hasAllMembers,
  hideMessage,
  isOpenChat,
  isStaff,
  lastSeq,
  mergeMessages,
  type PendingMessage,
  patchMessages,
  replaceMessage,
  secondsIn,
  selfMember,
  selfOf,
  sortChats,
} from './state';

export type NetStatus = 'offline' | 'connecting' | 'syncing' | 'online';

export interface StoreDeps {
  connection: Connection;
  storage: Storage;
  openCache: (userId: UserId) => Promise<Cache | null>;
  device: DeviceInfo;
  isVisible: () => boolean;
  now?: () => number;
}

/** Page sizes. */
const HISTORY_PAGE = 60;
const CATCH_UP_PAGE = 200;
/** Changed chats per sync page (the server's default). */
const SYNC_CHATS = 200;
/**
 * Newest messages a sync lists per changed chat: one screen of a chat plus margin, so a list
 * that was cut still fills the chat view when it stands in for the newest page. A full page
 * of SYNC_CHATS chats then carries at most 200 × 50 = 10,000 messages, the server's cap per
 * page, so no summary of it goes without its list.
 */
const SYNC_MESSAGES = 50;
/** A chat this far behind is reloaded from its newest page instead of caught up. */
const MAX_CATCH_UP = 2000;
const RETRY_TRANSIENT_MS = 2000;

export class AppStore {
  session: Session | null;
  me: Profile | null = null;
  net: NetStatus = 'connecting';
  /** Whether the first sync after sign-in or start-up has finished. */
  synced = false;
  chats = new Map<ChatId, ChatSummary>();
  messages = new Map<ChatId, ChatMessages>();
  friends = new Map<UserId, Profile>();
  pending = new Map<string, PendingMessage>();
  activeChat: ChatId | null = null;
  /** Chats whose older history is being fetched. */
  loadingOlder = new Set<ChatId>();
  /**
   * Per chat, the first seq I may see when it is above 1 (members see a group or a
   * `from_join` open chat from when they joined): the server said nothing lies before it.
   */
  private readonly historyStart = new Map<ChatId, Seq>();
  pos: Cursor = 0;
  /** Why the session ended, if the server ended it. */
  signedOutReason: 'revoked' | null = null;
  /** My applications to communities (approval rooms), by id; kept current by events. */
  myApplications = new Map<number, Application>();
  /** Staff view: pending applications per room I may approve in, as far as known. */
  staffQueue = new Map<ChatId, Map<number, Application>>();
  /** My saved nickname profile for open chats: undefined until loaded, null if none. */
  savedNickname: SavedNickname | null | undefined = undefined;
  /** Slow mode: per open chat, when I may send again (ms since the epoch). */
  slowUntil = new Map<ChatId, number>();
  /** Open chats: every room profile seen per room, so people who left keep their names. */
  private readonly knownMembers = new Map<ChatId, Map<UserId, Profile>>();

  private readonly deps: StoreDeps;
  private readonly now: () => number;
  private cache: Cache | null = null;
  private syncing = false;
  private buffered: ServerEvent[] = [];
  private readonly catchUps = new Map<ChatId, Promise<void>>();
  private readonly staleTail = new Set<ChatId>();
  private readonly readInFlight = new Map<ChatId, Seq>();
  private flushing = false;
  private outboxTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly incomingListeners = new Set<(m: Message, chat: ChatSummary) => void>();
  private readonly applicationListeners = new Set<(a: Application, mine: boolean) => void>();
  private readonly memberRefresh = new Map<ChatId, ReturnType<typeof setTimeout>>();
  private notifyScheduled = false;
  private readonly dirty = {
    chats: new Set<ChatId>(),
    removedChats: new Set<ChatId>(),
    messages: new Set<ChatId>(),
    friends: new Set<UserId>(),
    removedFriends: new Set<UserId>(),
    meta: false,
  };
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(deps: StoreDeps) {
    this.deps = deps;
    this.now = deps.now ?? Date.now;
    this.session = loadSession(deps.storage);
    const conn = deps.connection;
    conn.onOpen(() => void this.onOpen());
    conn.onEvent((ev) => this.onEvent(ev));
    conn.onState((s) => {
      if (s !== 'open') {
        this.syncing = false;
        this.buffered = [];
        this.setNet(s === 'connecting' ? 'connecting' : 'offline');
      }
    });
  }

  /** Loads the cache (so the UI can show something at once) and starts connecting. */
  async start(): Promise<void> {
    if (this.session) await this.openCache(this.session.user_id);
    this.deps.connection.start();
  }

  // ---- observation -------------------------------------------------------------------

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** New messages from others that arrive live (for notifications). */
  onIncoming(fn: (m: Message, chat: ChatSummary) => void): () => void {
    this.incomingListeners.add(fn);
    return () => this.incomingListeners.delete(fn);
  }

  /** Applications that arrive live: mine when decided, or new ones for staff to decide. */
  onApplication(fn: (a: Application, mine: boolean) => void): () => void {
    this.applicationListeners.add(fn);
    return () => this.applicationListeners.delete(fn);
  }

  private changed(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    queueMicrotask(() => {
      this.notifyScheduled = false;
      for (const fn of this.listeners) fn();
    });
  }

  get sortedChats(): ChatSummary[] {
    return sortChats(this.chats.values());
  }

  get totalUnread(): number {
    let n = 0;
    for (const c of this.chats.values()) if (!c.left) n += c.unread_count;
    return n;
  }

  pendingFor(chatId: ChatId): PendingMessage[] {
    return [...this.pending.values()]
      .filter((p) => p.chat_id === chatId)
      .sort((a, b) => a.created_at - b.created_at);
  }

  /** A person by account id (never a member id of an open chat: those mean nothing elsewhere). */
  profileOf(userId: UserId): Profile | undefined {
    if (this.me?.user_id === userId) return this.me;
    const f = this.friends.get(userId);
    if (f) return f;
    for (const c of this.chats.values()) {
      if (isOpenChat(c)) continue;
      const m = c.members.find((x) => x.user_id === userId);
      if (m) return m.profile;
    }
    return undefined;
  }

  /** The id that stands for me in a chat (my member id in an open chat). */
  selfId(chatId: ChatId): UserId {
    return selfOf(this.chats.get(chatId), this.me?.user_id ?? -1);
  }

  /** A person as a chat names them: in open chats by member id, with their room profile. */
  memberProfile(chat: ChatSummary | undefined, id: UserId): Profile | undefined {
    if (!chat || !isOpenChat(chat)) return this.profileOf(id);
    return chat.members.find((m) => m.user_id === id)?.profile ?? this.knownMembers.get(chat.chat_id)?.get(id);
  }

  memoChat(): ChatSummary | undefined {
    for (const c of this.chats.values()) if (c.kind === 'memo' && !c.left) return c;
    return undefined;
  }

  // ---- accounts ----------------------------------------------------------------------

  async register(handle: string, password: string, displayName: string): Promise<void> {
    const args: OpArgs<'auth.register'> = { handle, password, device: this.deps.device };
    if (displayName) args.display_name = displayName;
    const res = await this.deps.connection.request('auth.register', args);
    await this.signedIn(res.token, res.device_id, res.profile);
  }

  async login(handle: string, password: string): Promise<void> {
    const res = await this.deps.connection.request('auth.login', {
      handle,
      password,
      device: this.deps.device,
    });
    await this.signedIn(res.token, res.device_id, res.profile);
  }

  async logout(): Promise<void> {
    try {
      await this.deps.connection.request('auth.logout', {}, 5000);
    } catch {
      // Signed out locally all the same; the server ends the session when it next sees it.
    }
    await this.signOutLocal(null);
  }

  private async signedIn(token: string, deviceId: number, profile: Profile): Promise<void> {
    this.session = { token, device_id: deviceId, user_id: profile.user_id };
    saveSession(this.deps.storage, this.session);
    this.signedOutReason = null;
    await this.openCache(profile.user_id);
    this.setMe(profile);
    await this.afterAuth();
  }

  private async signOutLocal(reason: 'revoked' | null): Promise<void> {
    const cache = this.cache;
    this.cache = null;
    this.session = null;
    saveSession(this.deps.storage, null);
    this.me = null;
    this.chats = new Map();
    this.messages = new Map();
    this.friends = new Map();
    this.pending = new Map();
    this.myApplications = new Map();
    this.staffQueue = new Map();
    this.savedNickname = undefined;
    this.slowUntil = new Map();
    this.activeChat = null;
    this.pos = 0;
    this.synced = false;
    this.signedOutReason = reason;
    this.clearDirty();
    this.changed();
    if (cache) await cache.destroy().catch(() => undefined);
  }

  private async openCache(userId: UserId): Promise<void> {
    this.cache = await this.deps.openCache(userId).catch(() => null);
    if (!this.cache) return;
    const snap = await this.cache.load().catch(() => null);
    if (!snap) return;
    if (isCursor(snap.pos)) this.pos = snap.pos;
    if (snap.me) this.me = snap.me;
    for (const c of snap.chats) this.chats.set(c.chat_id, c);
    for (const f of snap.friends) this.friends.set(f.user_id, f);
    for (const [chatId, list] of snap.messages) {
      list.sort((a, b) => a.seq - b.seq);
      this.messages.set(chatId, mergeMessages(undefined, list).next);
    }
    for (const p of snap.outbox) this.pending.set(p.client_id, { ...p, status: p.status === 'failed' ? 'failed' : 'queued' });
    this.changed();
  }

  // ---- connection lifecycle ----------------------------------------------------------

  private async onOpen(): Promise<void> {
    if (!this.session) {
      this.setNet('online');
      return;
    }
    const conn = this.deps.connection;
    // auth.resume and the first sync page leave together: the server handles a connection's
    // requests in order, so the sync runs signed in, and a reconnect costs one round trip
    // (docs/protocol.md, "Sync"). Events that arrive meanwhile wait for the sync.
    this.syncing = true;
    const resumed = conn.request('auth.resume', { token: this.session.token });
    const firstPage = conn.request('sync', this.syncArgs(this.pos));
    firstPage.catch(() => undefined); // a failed resume fails it too; the resume's error tells why
    try {
      const res = await resumed;
      this.setMe(res.profile);
      await this.afterAuth(firstPage);
    } catch (e) {
      this.syncing = false;
      this.buffered = [];
      if (e instanceof ProtocolError && (e.code === 'invalid_credentials' || e.code === 'session_revoked')) {
        await this.signOutLocal('revoked');
        this.setNet('online');
      } else if (!(e instanceof ConnectionError)) {
        this.deps.connection.interrupt();
      }
    }
  }

  /** After sign-in or resume: catch up, then go live and send what waited. */
  private async afterAuth(firstPage?: Promise<OpResult<'sync'>>): Promise<void> {
    this.setNet('syncing');
    this.syncing = true;
    try {
      await this.sync(firstPage);
      await this.ensureMemo();
    } catch (e) {
      this.syncing = false;
      this.buffered = [];
      if (!(e instanceof ConnectionError)) this.deps.connection.interrupt();
      return;
    }
    this.syncing = false;
    const events = this.buffered;
    this.buffered = [];
    for (const ev of events) if (!ev.pos || isAhead(this.pos, ev.pos, ev.shard)) this.apply(ev); // pos 0 or none: not a stream change
    this.synced = true;
    this.deps.connection.resetBackoff();
    this.setNet('online');
    if (this.activeChat !== null) void this.openChat(this.activeChat);
    void this.flushOutbox();
  }

  private syncArgs(since: Cursor): OpArgs<'sync'> {
    return { since, limit: SYNC_CHATS, messages: SYNC_MESSAGES };
  }

  /** Pages through `sync` from the stored position; `firstPage`: its first page, already asked for. */
  private async sync(firstPage?: Promise<OpResult<'sync'>>): Promise<void> {
    const conn = this.deps.connection;
    let since = this.pos;
    let next = firstPage;
    for (;;) {
      const res = await (next ?? conn.request('sync', this.syncArgs(since)));
      next = undefined;
      for (const c of res.chats) {
        if (c.left) this.removeChat(c.chat_id);
        else {
          this.upsertChat(c);
          this.applySeqChanges(c);
          this.applySyncedMessages(c);
        }
      }
      for (const f of res.friends) if (!f.removed) this.updateProfile(f.friend);
      if (res.me) this.updateProfile(res.me);
      since = res.pos;
      if (!res.has_more) break;
    }
    const { friends } = await conn.request('friends.list', {});
    const keep = new Set(friends.map((f) => f.user_id));
    for (const id of this.friends.keys()) {
      if (!keep.has(id)) {
        this.friends.delete(id);
        this.dirty.removedFriends.add(id);
      }
    }
    for (const f of friends) this.setFriend(f);
    this.setPos(since);
    this.changed();
  }

  /** A sync summary's deleted, hidden and restored seqs, applied to the held messages. */
  private applySeqChanges(c: WireChat): void {
    let cm = this.messages.get(c.chat_id);
    const before = cm;
    cm = patchMessages(cm, c.deleted_seqs ?? [], deleteMessageLocally);
    cm = patchMessages(cm, c.hidden_seqs ?? [], hideMessage);
    if (cm && cm !== before) {
      this.messages.set(c.chat_id, cm);
      this.dirty.messages.add(c.chat_id);
      this.markDirty();
    }
    // A restored message's text is not in the summary: fetch it again if we hold it.
    for (const seq of c.restored_seqs ?? []) {
      const held = this.messages.get(c.chat_id);
      if (!held || seq < firstSeq(held) || seq > lastSeq(held)) continue;
      void this.deps.connection
        .request('messages.history', { chat_id: c.chat_id, after_seq: seq - 1, limit: 1 })
        .then((res) => {
          for (const m of res.messages) this.receiveReplacement(m);
          this.changed();
        })
        .catch(() => undefined);
    }
  }

  /**
   * A sync summary's `messages`, the chat's tail since the last sync (ending at `last_seq`):
   * merged into the held run when it reaches it; standing in for the newest page when it fills
   * a screen or starts the chat's visible history; otherwise left, and the gap after the held
   * run (or the newest page) is fetched when the chat is opened. Without a list, the held tail
   * may be stale, so the newest page is fetched again on open.
   */
  private applySyncedMessages(c: WireChat): void {
    const listed = c.messages;
    if (!listed) {
      this.staleTail.add(c.chat_id);
      return;
    }
    this.staleTail.delete(c.chat_id);
    for (const m of listed) this.confirmSent(m);
    const first = listed[0]?.seq;
    if (first === undefined) return;
    const held = this.messages.get(c.chat_id);
    const startsHistory = first <= this.firstVisibleSeq(c.chat_id);
    if (held && held.items.length > 0 && lastSeq(held) + 1 >= first) {
      this.setMessages(c.chat_id, mergeMessages(held, listed).next);
    } else if (listed.length >= SYNC_MESSAGES || startsHistory) {
      this.setMessages(c.chat_id, mergeMessages(undefined, listed).next);
      if (startsHistory) this.historyStart.set(c.chat_id, first);
    }
  }

  /** The first seq I may see in a chat: members see it from when they joined (`joined_seq`). */
  private firstVisibleSeq(chatId: ChatId): Seq {
    const chat = this.chats.get(chatId);
    const self = chat && this.me ? selfMember(chat, this.me.user_id) : undefined;
    return (self?.joined_seq ?? 0) + 1;
  }

  /** A message the server stored: if it is mine and still in the outbox, it was sent. */
  private confirmSent(msg: Message): void {
    const p = this.pending.get(msg.client_id);
    if (p && p.chat_id === msg.chat_id && msg.sender_id === this.selfId(msg.chat_id)) this.dropPending(msg.client_id);
  }

  private async ensureMemo(): Promise<void> {
    if (this.memoChat()) return;
    const { chat } = await this.deps.connection.request('chats.memo', {});
    this.upsertChat(chat);
  }

  private setNet(n: NetStatus): void {
    if (this.net === n) return;
    this.net = n;
    this.changed();
  }

  // ---- events ------------------------------------------------------------------------

  private onEvent(ev: ServerEvent): void {
    if (ev.event === 'hello') return;
    if (ev.event === 'session.revoked') {
      if (this.session && ev.data.device_id === this.session.device_id) void this.signOutLocal('revoked');
      return;
    }
    if (!this.session || !this.me) return;
    if (ev.event === 'sync.needed') {
      if (!this.syncing) void this.afterAuth();
      return;
    }
    if (this.syncing) this.buffered.push(ev);
    else this.apply(ev);
  }

  private apply(ev: ServerEvent): void {
    switch (ev.event) {
      case 'message.new':
        this.receiveMessage(ev.data.message, true);
        break;
      case 'message.deleted':
      case 'message.updated':
        this.receiveReplacement(ev.data.message);
        break;
      case 'open.updated':
        this.receiveRoom(ev.data.room);
        break;
      case 'open.application':
        this.receiveApplication(ev.data.application);
        break;
      case 'chat.read':
        if (ev.data.reads) this.receiveReads(ev.data.chat_id, ev.data.reads);
        if (ev.data.unread) this.receiveUnreadCounts(ev.data.chat_id, ev.data.unread);
        break;
      case 'chat.updated':
        if (ev.data.chat.left) this.removeChat(ev.data.chat.chat_id);
        else this.upsertChat(ev.data.chat);
        break;
      case 'chat.removed':
        this.removeChat(ev.data.chat_id);
        break;
      case 'profile.updated':
        this.updateProfile(ev.data.profile);
        break;
      case 'friends.updated':
        if (ev.data.removed) {
          this.friends.delete(ev.data.friend.user_id);
          this.dirty.removedFriends.add(ev.data.friend.user_id);
          this.markDirty();
        } else this.setFriend(ev.data.friend);
        break;
      default:
        return;
    }
    if (ev.pos !== undefined && isAhead(this.pos, ev.pos, ev.shard)) this.setPos(advance(this.pos, ev.pos, ev.shard));
    this.changed();
  }

  private receiveMessage(msg: Message, live: boolean): void {
    const chat = this.chats.get(msg.chat_id);
    const me = selfOf(chat, this.me?.user_id ?? -1);
    const p = this.pending.get(msg.client_id);
    if (p && p.chat_id === msg.chat_id && (msg.sender_id === me || !chat)) this.dropPending(msg.client_id);
    if (!chat) {
      // A chat we have not heard of yet (we were just added): fetch it, then its messages.
      void this.refreshChat(msg.chat_id).then(() => {
        if (this.activeChat === msg.chat_id) void this.catchUp(msg.chat_id);
      });
      return;
    }
    const isNew = msg.seq > chat.last_seq;
    this.setChat(applyNewMessage(chat, msg, me));
    this.mergeInto(msg.chat_id, [msg]);
    if (this.activeChat === msg.chat_id) void this.markRead(msg.chat_id);
    if (live && isNew && msg.kind === 'system' && isOpenChat(chat)) this.scheduleMemberRefresh(msg.chat_id);
    if (live && isNew && msg.sender_id !== me && msg.kind !== 'system') {
      const c = this.chats.get(msg.chat_id);
      if (c) for (const fn of this.incomingListeners) fn(msg, c);
    }
  }

  /** Open chats: membership changed (a system message said so); fetch the member list again. */
  private scheduleMemberRefresh(chatId: ChatId): void {
    if (this.memberRefresh.has(chatId)) return;
    this.memberRefresh.set(
      chatId,
      setTimeout(() => {
        this.memberRefresh.delete(chatId);
        if (this.net === 'online') void this.refreshChat(chatId);
      }, 250),
    );
  }

  /** A newer copy of a message: deleted for everyone, hidden by reports, or shown again. */
  private receiveReplacement(msg: Message): void {
    const held = this.messages.get(msg.chat_id);
    const next = replaceMessage(held, msg);
    if (next && next !== held) {
      this.messages.set(msg.chat_id, next);
      this.dirty.messages.add(msg.chat_id);
    }
    const chat = this.chats.get(msg.chat_id);
    if (chat?.last_message?.seq === msg.seq) this.setChat({ ...chat, last_message: msg });
    this.markDirty();
  }

  private receiveRead(chatId: ChatId, userId: UserId, readSeq: Seq): void {
    this.receiveReads(chatId, [{ user_id: userId, read_seq: readSeq }]);
  }

  /** Moves members' read pointers (a chat.read event lists a batch of them); one update. */
  private receiveReads(chatId: ChatId, reads: { user_id: UserId; read_seq: Seq }[]): void {
    const chat = this.chats.get(chatId);
    if (!chat || !this.me) return;
    const self = selfOf(chat, this.me.user_id);
    let next = applyReads(chat, reads, self);
    if (next === chat) return;
    if (reads.some((r) => r.user_id === self)) {
      const n = countUnread(next, this.messages.get(chatId), self);
      if (n !== null && n !== next.unread_count) next = { ...next, unread_count: n };
    }
    this.setChat(next);
  }

  /** A big chat's reads: the server's unread counts for the messages they changed. */
  private receiveUnreadCounts(chatId: ChatId, counts: UnreadCounts): void {
    const held = this.messages.get(chatId);
    const next = applyUnreadCounts(held, counts);
    if (!next || next === held) return;
    this.messages.set(chatId, next);
    this.dirty.messages.add(chatId);
    this.markDirty();
  }

  /** Adds messages to the held run; a gap means something is missing, so fetch it. */
  private mergeInto(chatId: ChatId, msgs: Message[]): void {
    const held = this.messages.get(chatId);
    if (!held || held.items.length === 0) {
      // Nothing held: the newest page is fetched when the chat is opened.
      if (this.activeChat === chatId) void this.catchUp(chatId);
      return;
    }
    const { next, gap } = mergeMessages(held, msgs);
    if (next !== held) {
      this.messages.set(chatId, next);
      this.dirty.messages.add(chatId);
      this.markDirty();
    }
    if (gap) void this.catchUp(chatId);
  }

  // ---- chats and messages ------------------------------------------------------------

  /** Makes a chat the open one: fetches what is missing and marks it read. */
  async openChat(chatId: ChatId | null): Promise<void> {
    this.activeChat = chatId;
    this.changed();
    if (chatId === null || this.net !== 'online') return;
    const chat = this.chats.get(chatId);
    if (!chat || !hasAllMembers(chat)) await this.refreshChat(chatId).catch(() => undefined);
    await this.catchUp(chatId).catch(() => undefined);
    await this.markRead(chatId);
  }

  private async refreshChat(chatId: ChatId): Promise<void> {
    try {
      const { chat } = await this.deps.connection.request('chats.get', { chat_id: chatId });
      this.upsertChat(chat);
      this.changed();
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'chat_not_found') {
        this.removeChat(chatId);
        this.changed();
      }
    }
  }

  /** Fetches every message after the held run (or the newest page if none is held); none if it is current. */
  catchUp(chatId: ChatId): Promise<void> {
    const running = this.catchUps.get(chatId);
    if (running) return running;
    const p = this.doCatchUp(chatId).finally(() => this.catchUps.delete(chatId));
    this.catchUps.set(chatId, p);
    return p;
  }

  private async doCatchUp(chatId: ChatId): Promise<void> {
    const conn = this.deps.connection;
    const chat = this.chats.get(chatId);
    let held = this.messages.get(chatId);
    if (held && chat && chat.last_seq - lastSeq(held) > MAX_CATCH_UP) held = undefined;
    if (!held || held.items.length === 0) {
      const res = await conn.request('messages.history', { chat_id: chatId, limit: HISTORY_PAGE });
      this.staleTail.delete(chatId);
      this.setMessages(chatId, mergeMessages(undefined, res.messages).next);
      if (!res.has_more && res.messages.length) this.historyStart.set(chatId, firstSeq(this.messages.get(chatId)));
      return;
    }
    // A sync's list or live events may have brought the run up to date already.
    if (chat && lastSeq(held) >= chat.last_seq && !this.staleTail.has(chatId)) return;
    for (;;) {
      const res = await conn.request('messages.history', {
        chat_id: chatId,
        after_seq: lastSeq(this.messages.get(chatId)),
        limit: CATCH_UP_PAGE,
      });
      this.setMessages(chatId, mergeMessages(this.messages.get(chatId), res.messages).next);
      if (!res.has_more || res.messages.length === 0) break;
    }
    if (this.staleTail.delete(chatId)) {
      // Deletes and read counts of recent messages may have changed while we were away.
      const res = await conn.request('messages.history', { chat_id: chatId, limit: HISTORY_PAGE });
      this.setMessages(chatId, mergeMessages(this.messages.get(chatId), res.messages).next);
    }
  }

  /** Whether older messages than the held ones can be fetched. */
  hasOlder(chatId: ChatId): boolean {
    const held = this.messages.get(chatId);
    const first = firstSeq(held);
    return first > 1 && this.historyStart.get(chatId) !== first;
  }

  /** Fetches the page before the held run (scrolling up through history). */
  async loadOlder(chatId: ChatId): Promise<void> {
    const held = this.messages.get(chatId);
    if (!held || !this.hasOlder(chatId) || this.loadingOlder.has(chatId) || this.net !== 'online') return;
    this.loadingOlder.add(chatId);
    this.changed();
    try {
      const res = await this.deps.connection.request('messages.history', {
        chat_id: chatId,
        before_seq: firstSeq(held),
        limit: HISTORY_PAGE,
      });
      this.setMessages(chatId, mergeMessages(this.messages.get(chatId), res.messages).next);
      if (!res.has_more) this.historyStart.set(chatId, firstSeq(this.messages.get(chatId)));
    } finally {
      this.loadingOlder.delete(chatId);
      this.changed();
    }
  }

  /** Tells the server the open chat is read up to its newest message. */
  async markRead(chatId: ChatId): Promise<void> {
    const chat = this.chats.get(chatId);
    if (!chat || !this.me || this.net !== 'online' || !this.deps.isVisible()) return;
    if (this.activeChat !== chatId) return;
    const seq = Math.max(chat.last_seq, lastSeq(this.messages.get(chatId)));
    if (seq <= chat.read_seq || (this.readInFlight.get(chatId) ?? 0) >= seq) return;
    this.readInFlight.set(chatId, seq);
    try {
      const res = await this.deps.connection.request('messages.read', { chat_id: chatId, seq });
      this.receiveRead(chatId, this.selfId(chatId), res.read_seq);
      this.changed();
    } catch {
      // Tried again on the next message or focus.
    } finally {
      if (this.readInFlight.get(chatId) === seq) this.readInFlight.delete(chatId);
    }
  }

  /** Queues a message and sends it as soon as the connection allows. */
  send(chatId: ChatId, text: string, replyTo?: Seq): PendingMessage {
    const now = this.now();
    const p: PendingMessage = {
      client_id: newClientId(now),
      chat_id: chatId,
      text,
      created_at: now,
      status: 'queued',
    };
    if (replyTo !== undefined) p.reply_to = replyTo;
    this.pending.set(p.client_id, p);
    void this.cache?.putPending(p).catch(() => undefined);
    this.changed();
    if (this.net === 'online') void this.transmit(p);
    return p;
  }

  /** Sends a failed message again, with its original client id. */
  retry(clientId: string): void {
    const p = this.pending.get(clientId);
    if (!p || p.status === 'sending') return;
    this.setPending({ ...p, status: 'queued' });
    if (this.net === 'online') void this.transmit(this.pending.get(clientId) as PendingMessage);
  }

  discard(clientId: string): void {
    this.dropPending(clientId);
    this.changed();
  }

  private async flushOutbox(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const queued = [...this.pending.values()]
        .filter((p) => p.status === 'queued')
        .sort((a, b) => a.created_at - b.created_at);
      for (const p of queued) {
        if (this.net !== 'online') break;
        if (this.pending.get(p.client_id)?.status === 'queued') await this.transmit(p);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async transmit(p: PendingMessage): Promise<void> {
    this.setPending({ ...p, status: 'sending' });
    const args: OpArgs<'messages.send'> = { chat_id: p.chat_id, client_id: p.client_id, text: p.text };
    if (p.reply_to !== undefined) args.reply_to = p.reply_to;
    try {
      const { message } = await this.deps.connection.request('messages.send', args);
      this.dropPending(p.client_id);
      this.receiveMessage(message, false);
      this.noteSlowMode(p.chat_id, null);
      this.changed();
    } catch (e) {
      if (!this.pending.has(p.client_id)) return;
      const code = e instanceof ProtocolError || e instanceof ConnectionError ? e.code : 'internal';
      if (e instanceof ProtocolError && e.code === 'slow_mode') {
        const until = this.noteSlowMode(p.chat_id, secondsIn(e.message));
        const failed: PendingMessage = { ...p, status: 'failed', error: code };
        if (until) failed.retry_at = until;
        this.setPending(failed);
      } else if (e instanceof ConnectionError && e.code !== 'timeout') {
        // The connection dropped: resend with the same client id after reconnecting.
        this.setPending({ ...p, status: 'queued' });
      } else if (isTransient(e) && !(e instanceof ConnectionError)) {
        this.setPending({ ...p, status: 'queued', error: code });
        this.scheduleOutbox();
      } else {
        this.setPending({ ...p, status: 'failed', error: code });
      }
    }
  }

  /**
   * Slow mode: after my send (seconds null) or a `slow_mode` refusal (seconds left, if the
   * server named them), remembers when I may send again. Staff are not limited.
   */
  private noteSlowMode(chatId: ChatId, secondsLeft: number | null): number | null {
    const chat = this.chats.get(chatId);
    const wait = chat?.open?.slow_mode_seconds ?? 0;
    if (!chat || !this.me || isStaff(chat, this.me.user_id)) return null;
    const secs = secondsLeft ?? wait;
    if (secs <= 0) {
      this.slowUntil.delete(chatId);
      return null;
    }
    const until = this.now() + secs * 1000;
    this.slowUntil.set(chatId, until);
    this.changed();
    return until;
  }

  private scheduleOutbox(): void {
    if (this.outboxTimer) return;
    this.outboxTimer = setTimeout(() => {
      this.outboxTimer = null;
      if (this.net === 'online') void this.flushOutbox();
    }, RETRY_TRANSIENT_MS);
  }

  private setPending(p: PendingMessage): void {
    this.pending.set(p.client_id, p);
    void this.cache?.putPending(p).catch(() => undefined);
    this.changed();
  }

  private dropPending(clientId: string): void {
    if (!this.pending.delete(clientId)) return;
    void this.cache?.deletePending(clientId).catch(() => undefined);
  }

  async deleteMessage(chatId: ChatId, seq: Seq): Promise<void> {
    const { message } = await this.deps.connection.request('messages.delete', { chat_id: chatId, seq });
    this.receiveReplacement(message);
    this.changed();
  }

  async openDirect(userId: UserId): Promise<ChatId> {
    const { chat } =
      userId === this.me?.user_id
        ? await this.deps.connection.request('chats.memo', {})
        : await this.deps.connection.request('chats.direct', { user_id: userId });
    this.upsertChat(chat);
    this.changed();
    return chat.chat_id;
  }

  async createGroup(title: string, userIds: UserId[]): Promise<ChatId> {
    const args: OpArgs<'chats.create_group'> = { user_ids: userIds };
    if (title) args.title = title;
    const { chat } = await this.deps.connection.request('chats.create_group', args);
    this.upsertChat(chat);
    this.changed();
    return chat.chat_id;
  }

  async invite(chatId: ChatId, userIds: UserId[]): Promise<void> {
    const { chat } = await this.deps.connection.request('chats.invite', { chat_id: chatId, user_ids: userIds });
    this.upsertChat(chat);
    this.changed();
  }

  async rename(chatId: ChatId, title: string): Promise<void> {
    const { chat } = await this.deps.connection.request('chats.rename', { chat_id: chatId, title });
    this.upsertChat(chat);
    this.changed();
  }

  async leave(chatId: ChatId): Promise<void> {
    await this.deps.connection.request('chats.leave', { chat_id: chatId });
    this.removeChat(chatId);
    this.changed();
  }

  // ---- friends, profile, devices -----------------------------------------------------

  async addFriend(handle: string): Promise<Profile> {
    const { friend } = await this.deps.connection.request('friends.add', { handle });
    this.setFriend(friend);
    this.changed();
    return friend;
  }

  async removeFriend(userId: UserId): Promise<void> {
    await this.deps.connection.request('friends.remove', { user_id: userId });
    this.friends.delete(userId);
    this.dirty.removedFriends.add(userId);
    this.markDirty();
    this.changed();
  }

  async updateMyProfile(p: OpArgs<'profile.update'>): Promise<void> {
    const { profile } = await this.deps.connection.request('profile.update', p);
    this.updateProfile(profile);
    this.changed();
  }

  async listDevices(): Promise<Device[]> {
    return (await this.deps.connection.request('devices.list', {})).devices;
  }

  async revokeDevice(deviceId: number): Promise<void> {
    await this.deps.connection.request('devices.revoke', { device_id: deviceId });
  }

  // ---- open chats (오픈채팅 / 모임) ---------------------------------------------------

  private get conn(): Connection {
    return this.deps.connection;
  }

  async searchRooms(query: string, offset = 0): Promise<{ rooms: Room[]; has_more: boolean }> {
    return this.conn.request('open.search', { query, limit: 20, offset });
  }

  async popularRooms(offset = 0): Promise<{ rooms: Room[]; has_more: boolean }> {
    return this.conn.request('open.popular', { limit: 20, offset });
  }

  async previewRoom(ref: RoomRef): Promise<OpResult<'open.preview'>> {
    const res = await this.conn.request('open.preview', ref);
    if (res.application) this.putApplication(res.application);
    if (res.member && this.chats.has(res.room.chat_id)) this.receiveRoom(res.room);
    return res;
  }

  async createRoom(settings: RoomSettings, profile: RoomProfileArg): Promise<ChatId> {
    const { chat } = await this.conn.request('open.create', { ...settings, profile });
    this.upsertChat(chat);
    this.changed();
    return chat.chat_id;
  }

  async updateRoom(chatId: ChatId, settings: Partial<RoomSettings>): Promise<void> {
    const { chat } = await this.conn.request('open.update', { chat_id: chatId, ...settings });
    this.upsertChat(chat);
    this.changed();
  }

  /** Joins a room: `{chat_id}` once a member, or the application waiting for a decision. */
  async joinRoom(
    ref: RoomRef,
    profile: RoomProfileArg,
    extra: { passcode?: string; answers?: Record<string, string> } = {},
    /** The room as previewed, kept with the application for "my applications". */
    room?: Room,
  ): Promise<{ chat_id?: ChatId; application?: Application }> {
    const args: OpArgs<'open.join'> = { ...ref, profile };
    if (extra.passcode) args.passcode = extra.passcode;
    if (extra.answers) args.answers = extra.answers;
    const res = await this.conn.request('open.join', args);
    if (res.chat) {
      this.upsertChat(res.chat);
      this.changed();
      return { chat_id: res.chat.chat_id };
    }
    if (res.application) {
      this.putApplication(room && !res.application.room ? { ...res.application, room } : res.application);
      this.changed();
      return { application: res.application };
    }
    return {};
  }

  async loadMyApplications(): Promise<Application[]> {
    const { applications } = await this.conn.request('open.my_applications', {});
    this.myApplications = new Map(applications.map((a) => [a.application_id, a]));
    this.changed();
    return applications;
  }

  async cancelApplication(applicationId: number): Promise<void> {
    const { application } = await this.conn.request('open.cancel_application', { application_id: applicationId });
    this.putApplication(application);
    this.changed();
  }

  async roomApplications(chatId: ChatId, state: ApplicationState = 'pending'): Promise<Application[]> {
    const { applications } = await this.conn.request('open.applications', { chat_id: chatId, state });
    if (state === 'pending') {
      this.staffQueue.set(chatId, new Map(applications.map((a) => [a.application_id, a])));
      this.changed();
    }
    return applications;
  }

  async decideApplication(chatId: ChatId, applicationId: number, approve: boolean, reason?: string): Promise<Application> {
    const args: OpArgs<'open.decide'> = { chat_id: chatId, application_id: applicationId, approve };
    if (reason) args.reason = reason;
    try {
      const { application } = await this.conn.request('open.decide', args);
      return application;
    } finally {
      // Decided (or expired, or decided by someone else): either way it left the queue.
      this.staffQueue.get(chatId)?.delete(applicationId);
      this.changed();
    }
  }

  async setRole(chatId: ChatId, memberId: UserId, role: 'admin' | 'member', permissions?: Permission[]): Promise<Member> {
    const args: OpArgs<'open.set_role'> = { chat_id: chatId, member_id: memberId, role };
    if (role === 'admin' && permissions) args.permissions = permissions;
    const { member } = await this.conn.request('open.set_role', args);
    const chat = this.chats.get(chatId);
    if (chat) {
      this.setChat({ ...chat, members: chat.members.map((m) => (m.user_id === member.user_id ? { ...m, ...member } : m)) });
      this.changed();
    }
    return member;
  }

  async transferOwnership(chatId: ChatId, memberId: UserId): Promise<void> {
    const { chat } = await this.conn.request('open.transfer', { chat_id: chatId, member_id: memberId });
    this.upsertChat(chat);
    this.changed();
  }

  async kick(chatId: ChatId, memberId: UserId, reason?: string): Promise<void> {
    await this.conn.request('open.kick', reason ? { chat_id: chatId, member_id: memberId, reason } : { chat_id: chatId, member_id: memberId });
    await this.refreshChat(chatId);
  }

  async ban(chatId: ChatId, memberId: UserId, reason?: string): Promise<Ban> {
    const { ban } = await this.conn.request('open.ban', reason ? { chat_id: chatId, member_id: memberId, reason } : { chat_id: chatId, member_id: memberId });
    await this.refreshChat(chatId);
    return ban;
  }

  async unban(chatId: ChatId, banId: number): Promise<void> {
    await this.conn.request('open.unban', { chat_id: chatId, ban_id: banId });
  }

  async bans(chatId: ChatId): Promise<Ban[]> {
    return (await this.conn.request('open.bans', { chat_id: chatId })).bans;
  }

  async setNotice(chatId: ChatId, text: string): Promise<void> {
    const { chat } = await this.conn.request('open.notice', { chat_id: chatId, text });
    this.upsertChat(chat);
    this.changed();
  }

  async report(chatId: ChatId, target: { seq: Seq } | { member_id: UserId }, reason: string): Promise<number> {
    return (await this.conn.request('open.report', { chat_id: chatId, ...target, reason })).report_id;
  }

  async reports(chatId: ChatId, state: 'open' | 'resolved' = 'open'): Promise<Report[]> {
    return (await this.conn.request('open.reports', { chat_id: chatId, state })).reports;
  }

  async resolveReport(chatId: ChatId, reportId: number, action: 'dismiss' | 'restore' | 'delete'): Promise<void> {
    await this.conn.request('open.resolve', { chat_id: chatId, report_id: reportId, action });
  }

  async audit(chatId: ChatId, before?: number): Promise<{ entries: AuditEntry[]; has_more: boolean }> {
    return this.conn.request('open.audit', before ? { chat_id: chatId, before, limit: 50 } : { chat_id: chatId, limit: 50 });
  }

  async loadSavedNickname(): Promise<SavedNickname | null> {
    const { nickname } = await this.conn.request('open.nickname.get', {});
    this.savedNickname = nickname;
    this.changed();
    return nickname;
  }

  async saveNickname(nickname: string, avatar: string): Promise<void> {
    const res = await this.conn.request('open.nickname.set', avatar ? { nickname, avatar } : { nickname });
    this.savedNickname = res.nickname;
    this.changed();
  }

  private putApplication(a: Application): void {
    const old = this.myApplications.get(a.application_id);
    // Events about my application may not carry the room; keep the one we know.
    this.myApplications.set(a.application_id, old?.room && !a.room ? { ...a, room: old.room } : a);
  }

  /** The room of an open chat changed (info or notice). */
  private receiveRoom(room: Room): void {
    const chat = this.chats.get(room.chat_id);
    if (!chat) return;
    this.setChat({ ...chat, open: room, title: room.title || chat.title });
  }

  private receiveApplication(a: Application): void {
    const chat = this.chats.get(a.chat_id);
    const me = this.me?.user_id ?? -1;
    // Staff hear of new applications to their rooms; applicants hear of decisions.
    const mine = this.myApplications.has(a.application_id) || !chat || !isStaff(chat, me);
    if (mine) {
      this.putApplication(a);
      if (a.state === 'approved') void this.refreshChat(a.chat_id);
    } else {
      let q = this.staffQueue.get(a.chat_id);
      if (!q) this.staffQueue.set(a.chat_id, (q = new Map()));
      if (a.state === 'pending') q.set(a.application_id, a);
      else q.delete(a.application_id);
    }
    for (const fn of this.applicationListeners) fn(a, mine);
  }

  // ---- state updates -----------------------------------------------------------------

  private setMe(p: Profile): void {
    this.me = p;
    this.dirty.meta = true;
    this.markDirty();
    this.changed();
  }

  private setPos(pos: Cursor): void {
    this.pos = pos;
    this.dirty.meta = true;
    this.markDirty();
  }

  private setChat(c: ChatSummary): void {
    if (this.chats.get(c.chat_id) === c) return;
    this.chats.set(c.chat_id, c);
    this.dirty.chats.add(c.chat_id);
    this.markDirty();
  }

  /** Takes a summary from the server, keeping read pointers that are already further on. */
  private upsertChat(wire: WireChat): void {
    const old = this.chats.get(wire.chat_id);
    // Large chats come without members: keep the ones we know (chats.get fills them in).
    const members = (wire.members ?? old?.members ?? []).map((m) =>
      m.profile ? m : { ...m, profile: { user_id: m.user_id, handle: '', display_name: '', status_message: '', avatar: '' } },
    );
    let c: ChatSummary = { ...wire, members };
    const incoming = c;
    if (isOpenChat(c)) {
      let known = this.knownMembers.get(c.chat_id);
      if (!known) this.knownMembers.set(c.chat_id, (known = new Map()));
      for (const m of [...(old?.members ?? []), ...members]) known.set(m.user_id, m.profile);
    }
    if (old) {
      const oldPtr = new Map(old.members.map((m) => [m.user_id, m.read_seq]));
      c = {
        ...incoming,
        members: incoming.members.map((m) => {
          const r = oldPtr.get(m.user_id) ?? 0;
          return r > m.read_seq ? { ...m, read_seq: r } : m;
        }),
      };
      if (old.last_seq > c.last_seq) {
        c = { ...c, last_seq: old.last_seq, last_message: old.last_message ?? null, last_activity_at: old.last_activity_at };
      }
      if (old.read_seq > c.read_seq) c = { ...c, read_seq: old.read_seq };
      if (this.me) {
        const n = countUnread(c, this.messages.get(c.chat_id), selfOf(c, this.me.user_id));
        if (n !== null) c = { ...c, unread_count: n };
      }
    }
    this.setChat(c);
  }

  private removeChat(chatId: ChatId): void {
    if (!this.chats.has(chatId) && !this.messages.has(chatId)) return;
    this.chats.delete(chatId);
    this.messages.delete(chatId);
    this.dirty.chats.delete(chatId);
    this.dirty.messages.delete(chatId);
    this.dirty.removedChats.add(chatId);
    this.markDirty();
  }

  private setMessages(chatId: ChatId, cm: ChatMessages): void {
    if (this.messages.get(chatId) === cm) return;
    this.messages.set(chatId, cm);
    this.dirty.messages.add(chatId);
    const chat = this.chats.get(chatId);
    const last = cm.items[cm.items.length - 1];
    if (chat && last && this.me) this.setChat(applyNewMessage(chat, last, selfOf(chat, this.me.user_id)));
    this.markDirty();
    this.changed();
  }

  private setFriend(f: Profile): void {
    this.friends.set(f.user_id, f);
    this.dirty.removedFriends.delete(f.user_id);
    this.dirty.friends.add(f.user_id);
    this.markDirty();
  }

  /** A profile changed: update it wherever it is shown. */
  private updateProfile(p: Profile): void {
    if (this.me?.user_id === p.user_id) this.setMe(p);
    if (this.friends.has(p.user_id)) this.setFriend(p);
    for (const c of this.chats.values()) {
      // Open chats name people by member id and show room profiles: account updates do not apply.
      if (isOpenChat(c) || !c.members.some((m) => m.user_id === p.user_id)) continue;
      this.setChat({ ...c, members: c.members.map((m) => (m.user_id === p.user_id ? { ...m, profile: p } : m)) });
    }
  }

  // ---- cache -------------------------------------------------------------------------

  private markDirty(): void {
    if (this.flushTimer || !this.cache) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flushCache();
    }, 400);
  }

  private clearDirty(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const d = this.dirty;
    d.chats.clear();
    d.removedChats.clear();
    d.messages.clear();
    d.friends.clear();
    d.removedFriends.clear();
    d.meta = false;
  }

  /** Writes what changed since the last flush. */
  async flushCache(): Promise<void> {
    const cache = this.cache;
    if (!cache) return;
    const d = this.dirty;
    const w: CacheWrite = {
      chats: [...d.chats].map((id) => this.chats.get(id)).filter((c): c is ChatSummary => !!c),
      removedChats: [...d.removedChats],
      friends: [...d.friends].map((id) => this.friends.get(id)).filter((f): f is Profile => !!f),
      removedFriends: [...d.removedFriends],
      messages: new Map([...d.messages].flatMap((id) => {
        const cm = this.messages.get(id);
        return cm ? [[id, cm.items] as [number, Message[]]] : [];
      })),
    };
    if (d.meta) {
      w.pos = this.pos;
      if (this.me) w.me = this.me;
    }
    this.clearDirty();
    await cache.write(w).catch(() => undefined);
  }
}
