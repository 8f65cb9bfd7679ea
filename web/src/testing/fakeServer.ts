/**
 * An in-memory stand-in for `modu serve` that speaks the client protocol over fake sockets.
 * It implements the operations the store uses, with the documented semantics (positions,
 * idempotent sends, read pointers), so store tests exercise real protocol flows.
 */
import type { SocketLike } from '../protocol/connection';
import type { Application, AuditEntry, Ban, ChatSummary, Member, Message, Profile, Report, Room, RoomProfileArg } from '../protocol/types';

interface User {
  profile: Profile;
  password: string;
  friends: Set<number>;
}

interface Chat {
  id: number;
  kind: 'direct' | 'group' | 'memo' | 'open';
  title: string;
  /** Keyed by the id that names a person in this chat: the user id, or the member id in open chats. */
  members: Map<number, { read_seq: number; joined_seq: number; role: 'owner' | 'admin' | 'member' }>;
  messages: Message[];
  /** The position that stored each message (index seq - 1), for `sync`'s `messages`. */
  storedAt: number[];
  lastActivity: number;
  /** Open chats: account id → member id, the room, room profiles, passcode and applications. */
  accounts?: Map<number, number>;
  room?: Room;
  profiles?: Map<number, Profile>;
  passcode?: string;
  applications?: (Application & { user_id: number })[];
}

type Frame = { id: number; op: string; args: Record<string, unknown> };

export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  userId: number | null = null;
  deviceId: number | null = null;
  /** Frames sent by the client, for assertions. */
  readonly sent: Frame[] = [];
  /** For each of `sent`: how many responses the client had received when it was sent. */
  readonly answeredBefore: number[] = [];
  private answered = 0;
  /** When set, requests with these ops are processed but their responses are lost. */
  dropResponsesFor = new Set<string>();

  constructor(private readonly server: FakeServer) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    const frame = JSON.parse(data) as Frame;
    this.sent.push(frame);
    this.answeredBefore.push(this.answered);
    queueMicrotask(() => this.server.handle(this, frame));
  }

  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.server.sockets.delete(this);
    queueMicrotask(() => this.onclose?.({ code: 1000, reason: '' }));
  }

  deliver(obj: unknown): void {
    if (this.readyState !== 1) return;
    const data = JSON.stringify(obj);
    const isAnswer = typeof obj === 'object' && obj !== null && 'id' in obj;
    queueMicrotask(() => {
      if (this.readyState !== 1) return;
      if (isAnswer) this.answered++;
      this.onmessage?.({ data });
    });
  }
}

export class FakeServer {
  readonly sockets = new Set<FakeSocket>();
  private readonly users = new Map<number, User>();
  private readonly chats = new Map<number, Chat>();
  private readonly tokens = new Map<string, { userId: number; deviceId: number }>();
  /** Per user: (pos, chat id) of every visible change, for `sync`. */
  private readonly changes = new Map<number, { pos: number; chatId: number }[]>();
  private pos = 0;
  private nextId = 1;
  /** Member ids are far from user ids, so mixing them up shows in tests. */
  private nextMemberId = 900;
  private readonly nicknames = new Map<number, { nickname: string; avatar: string }>();
  private readonly bansOf = new Map<number, Ban[]>();
  private readonly reportsOf = new Map<number, Omit<Report, 'message'>[]>();
  private readonly auditOf = new Map<number, AuditEntry[]>();

  private audit(c: Chat, userId: number, action: string, target: number | null, detail: Record<string, unknown> | null): void {
    const list = this.auditOf.get(c.id) ?? this.auditOf.set(c.id, []).get(c.id)!;
    list.push({ entry_id: this.nextId++, at: this.clock++, actor: this.sid(c, userId), action, target, detail });
  }
  clock = 1_700_000_000_000;
  /** Whether new connections are accepted. */
  up = true;
  /** Messages one sync page lists in all (the server's cap); tests lower it to cut lists short. */
  syncMessageBudget = 10_000;
  readonly allSockets: FakeSocket[] = [];

  /** A socket factory for `Connection`. */
  readonly factory = (): SocketLike => {
    const s = new FakeSocket(this);
    this.allSockets.push(s);
    queueMicrotask(() => {
      if (!this.up) {
        s.readyState = 3;
        s.onclose?.({ code: 1006, reason: '' });
        return;
      }
      s.readyState = 1;
      this.sockets.add(s);
      s.onopen?.({});
      s.deliver({ event: 'hello', data: { protocol: 1, server: 'fake', max_frame_bytes: 65536, max_text_bytes: 16384 } });
    });
    return s;
  };

  /** Cuts every connection (as a network failure would). */
  dropAll(): void {
    for (const s of [...this.sockets]) s.close();
  }

  createUser(handle: string, name = handle): Profile {
    const profile: Profile = { user_id: this.nextId++, handle, display_name: name, status_message: '', avatar: '' };
    this.users.set(profile.user_id, { profile, password: 'password1', friends: new Set() });
    this.memoOf(profile.user_id);
    return profile;
  }

  /** Sends a message as `userId` without any client (another device). */
  post(userId: number, chatId: number, text: string, clientId = `srv-${this.nextId++}`): Message {
    return this.commitMessage(userId, chatId, clientId, text, undefined);
  }

  readAs(userId: number, chatId: number, seq: number): void {
    const chat = this.chats.get(chatId) as Chat;
    const sid = this.sid(chat, userId);
    const m = chat.members.get(sid);
    if (!m || seq <= m.read_seq) return;
    m.read_seq = seq;
    this.broadcast(chat, 'chat.read', () => ({ chat_id: chatId, reads: [{ user_id: sid, read_seq: seq }] }));
  }

  /** The id that names a user in a chat: the member id in open chats. */
  sid(chat: Chat, userId: number): number {
    return chat.accounts ? (chat.accounts.get(userId) ?? -1) : userId;
  }

  /** Open chats: hides a message as reports would (or shows it again). */
  hide(chatId: number, seq: number, hidden = true): void {
    const chat = this.chats.get(chatId) as Chat;
    const msg = chat.messages[seq - 1] as Message & { hiddenText?: string };
    if (hidden) chat.messages[seq - 1] = { ...msg, hidden: true, text: '', hiddenText: msg.text } as Message;
    else chat.messages[seq - 1] = { ...msg, hidden: false, text: msg.hiddenText ?? msg.text };
    const now = chat.messages[seq - 1] as Message;
    this.broadcast(chat, 'message.updated', () => ({ message: this.served(chat, now) }));
  }

  /** Open chats: a room's info changed (for example the notice). */
  setNotice(chatId: number, text: string): void {
    const chat = this.chats.get(chatId) as Chat;
    const room = chat.room as Room;
    room.notice = text ? { text, by: [...chat.members.keys()][0] as number, at: this.clock++ } : null;
    this.broadcast(chat, 'open.updated', () => ({ room: this.roomOf(chat) }));
  }

  directChat(a: number, b: number): number {
    for (const c of this.chats.values()) {
      if (c.kind === 'direct' && c.members.has(a) && c.members.has(b)) return c.id;
    }
    const c = this.newChat('direct', '', [a, b]);
    return c.id;
  }

  messagesOf(chatId: number): Message[] {
    return (this.chats.get(chatId) as Chat).messages;
  }

  handle(sock: FakeSocket, f: Frame): void {
    let result: unknown;
    try {
      result = this.dispatch(sock, f.op, f.args ?? {});
    } catch (e) {
      const [code, message] = String((e as Error).message).split(':');
      if (!sock.dropResponsesFor.has(f.op)) sock.deliver({ id: f.id, ok: false, error: { code, message: message ?? code } });
      return;
    }
    if (sock.dropResponsesFor.has(f.op)) return;
    sock.deliver({ id: f.id, ok: true, result });
    if (f.op === 'auth.logout') sock.close();
  }

  private dispatch(sock: FakeSocket, op: string, a: Record<string, unknown>): unknown {
    if (op === 'ping') return {};
    if (op === 'auth.register') {
      const handle = a.handle as string;
      if ([...this.users.values()].some((u) => u.profile.handle === handle)) throw new Error('handle_taken');
      const p = this.createUser(handle, (a.display_name as string) ?? handle);
      (this.users.get(p.user_id) as User).password = a.password as string;
      return this.startSession(sock, p.user_id);
    }
    if (op === 'auth.login') {
      const u = [...this.users.values()].find((x) => x.profile.handle === a.handle);
      if (!u || u.password !== a.password) throw new Error('invalid_credentials');
      return this.startSession(sock, u.profile.user_id);
    }
    if (op === 'auth.resume') {
      const t = this.tokens.get(a.token as string);
      if (!t) throw new Error('invalid_credentials');
      sock.userId = t.userId;
      sock.deviceId = t.deviceId;
      return { device_id: t.deviceId, profile: this.profile(t.userId) };
    }
    const me = sock.userId;
    if (me === null) throw new Error('unauthenticated');
    switch (op) {
      case 'auth.logout':
        for (const [k, v] of this.tokens) if (v.deviceId === sock.deviceId) this.tokens.delete(k);
        return {};
      case 'sync': {
        const since = a.since as number;
        const perChat = (a.messages as number | undefined) ?? 0;
        let budget = this.syncMessageBudget;
        const ids = new Set((this.changes.get(me) ?? []).filter((c) => c.pos > since).map((c) => c.chatId));
        const chats = [...ids].map((id) => {
          const chat = this.chats.get(id) as Chat;
          const summary = this.summary(chat, me);
          if (perChat === 0 || budget === 0) return summary;
          const messages = this.storedSince(chat, me, since, Math.min(perChat, budget));
          budget -= messages.length;
          return { ...summary, messages };
        });
        return {
          pos: this.pos,
          chats,
          friends: since === 0 ? this.friendsOf(me).map((friend) => ({ friend, removed: false })) : [],
          me: null,
          has_more: false,
        };
      }
      case 'friends.list':
        return { friends: this.friendsOf(me) };
      case 'friends.add': {
        const u = [...this.users.values()].find((x) => x.profile.handle === a.handle);
        if (!u) throw new Error('user_not_found');
        (this.users.get(me) as User).friends.add(u.profile.user_id);
        return { friend: u.profile };
      }
      case 'profile.update': {
        const u = this.users.get(me) as User;
        u.profile = { ...u.profile, ...(a as Partial<Profile>) };
        return { profile: u.profile };
      }
      case 'chats.memo':
        return { chat: this.summary(this.memoOf(me), me) };
      case 'chats.direct':
        return { chat: this.summary(this.chats.get(this.directChat(me, a.user_id as number)) as Chat, me) };
      case 'chats.get':
        return { chat: this.summary(this.member(a.chat_id as number, me), me) };
      case 'open.create':
        return { chat: this.summary(this.createRoom(me, a), me) };
      case 'open.search': {
        const q = String(a.query).toLowerCase();
        const rooms = this.rooms().filter(
          (c) => c.room?.listed && [c.room.title, c.room.description, ...c.room.tags].some((x) => x.toLowerCase().includes(q)),
        );
        return { rooms: rooms.map((c) => this.roomOf(c)), has_more: false };
      }
      case 'open.popular':
        return {
          rooms: this.rooms()
            .filter((c) => c.room?.listed)
            .sort((x, y) => y.members.size - x.members.size)
            .map((c) => this.roomOf(c)),
          has_more: false,
        };
      case 'open.preview': {
        const c = this.findRoom(a);
        const apps = (c.applications ?? []).filter((x) => x.user_id === me);
        return { room: this.roomOf(c), member: c.accounts?.has(me) ?? false, banned: false, application: apps[apps.length - 1] ?? null };
      }
      case 'open.join':
        return this.join(me, this.findRoom(a), a);
      case 'open.applications': {
        const c = this.member(a.chat_id as number, me);
        const state = (a.state as string) ?? 'pending';
        return { applications: (c.applications ?? []).filter((x) => x.state === state).map((x) => this.staffView(x)) };
      }
      case 'open.decide':
        return { application: this.decide(me, a.chat_id as number, a.application_id as number, a.approve as boolean, a.reason as string | undefined) };
      case 'open.my_applications': {
        const mine = this.rooms().flatMap((c) => (c.applications ?? []).filter((x) => x.user_id === me).map((x) => ({ ...this.mine(x), room: this.roomOf(c) })));
        return { applications: mine.reverse() };
      }
      case 'open.cancel_application': {
        const app = this.rooms().flatMap((c) => c.applications ?? []).find((x) => x.application_id === a.application_id && x.user_id === me);
        if (!app) throw new Error('application_not_found');
        app.state = 'cancelled';
        return { application: this.mine(app) };
      }
      case 'open.set_role': {
        const c = this.member(a.chat_id as number, me);
        const m = c.members.get(a.member_id as number);
        if (!m) throw new Error('member_not_found');
        m.role = a.role as 'admin' | 'member';
        (m as { permissions?: unknown }).permissions = a.role === 'admin' ? (a.permissions ?? ['approve', 'kick', 'ban', 'delete', 'notice', 'edit']) : undefined;
        this.audit(c, me, 'set_role', a.member_id as number, { role: a.role });
        this.systemMessage(c, this.sid(c, me), { type: 'role', by: this.sid(c, me), user: a.member_id, role: a.role });
        return { member: this.summary(c, me).members.find((x) => x.user_id === a.member_id) };
      }
      case 'open.kick':
      case 'open.ban': {
        const c = this.member(a.chat_id as number, me);
        const mid = a.member_id as number;
        const uid = [...(c.accounts as Map<number, number>)].find(([, v]) => v === mid)?.[0];
        if (uid === undefined) throw new Error('member_not_found');
        const profile = (c.profiles as Map<number, Profile>).get(mid) as Profile;
        this.systemMessage(c, this.sid(c, me), { type: op === 'open.ban' ? 'ban' : 'kick', by: this.sid(c, me), user: mid });
        c.accounts?.delete(uid);
        c.members.delete(mid);
        for (const sk of this.sockets) if (sk.userId === uid) sk.deliver({ event: 'chat.removed', pos: ++this.pos, data: { chat_id: c.id } });
        this.audit(c, me, op === 'open.ban' ? 'ban' : 'kick', mid, { reason: a.reason ?? null });
        if (op === 'open.kick') return {};
        const ban = { ban_id: this.nextId++, member_id: mid, profile, reason: (a.reason as string) ?? null, by: this.sid(c, me), at: this.clock++ };
        (this.bansOf.get(c.id) ?? this.bansOf.set(c.id, []).get(c.id))!.push(ban);
        return { ban };
      }
      case 'open.bans':
        this.member(a.chat_id as number, me);
        return { bans: this.bansOf.get(a.chat_id as number) ?? [] };
      case 'open.unban': {
        const c = this.member(a.chat_id as number, me);
        const list = this.bansOf.get(c.id) ?? [];
        const b = list.find((x) => x.ban_id === a.ban_id);
        this.bansOf.set(c.id, list.filter((x) => x.ban_id !== a.ban_id));
        this.audit(c, me, 'unban', b?.member_id ?? null, null);
        return {};
      }
      case 'open.notice': {
        const c = this.member(a.chat_id as number, me);
        this.setNotice(c.id, a.text as string);
        this.audit(c, me, 'notice', null, { text: a.text });
        return { chat: this.summary(c, me) };
      }
      case 'open.update': {
        const c = this.member(a.chat_id as number, me);
        const { chat_id: _c, passcode: _p, ...rest } = a;
        c.room = { ...(c.room as Room), ...(rest as Partial<Room>) };
        c.title = c.room.title;
        this.audit(c, me, 'edit', null, null);
        this.broadcast(c, 'open.updated', () => ({ room: this.roomOf(c) }));
        return { chat: this.summary(c, me) };
      }
      case 'open.report': {
        const c = this.member(a.chat_id as number, me);
        const seq = (a.seq as number) ?? 0;
        const target = seq ? (c.messages[seq - 1] as Message).sender_id : (a.member_id as number);
        const r = { report_id: this.nextId++, chat_id: c.id, reporter: this.sid(c, me), target, seq, reason: a.reason as string, state: 'open' as const, created_at: this.clock++, target_reports_total: 1 };
        (this.reportsOf.get(c.id) ?? this.reportsOf.set(c.id, []).get(c.id))!.push(r);
        if (seq && (this.reportsOf.get(c.id) ?? []).filter((x) => x.seq === seq).length >= (c.room as Room).report_threshold) this.hide(c.id, seq);
        return { report_id: r.report_id };
      }
      case 'open.reports': {
        const c = this.member(a.chat_id as number, me);
        const state = (a.state as string) ?? 'open';
        const list = (this.reportsOf.get(c.id) ?? []).filter((r) => r.state === state).reverse();
        return {
          reports: list.map((r) => {
            const m = r.seq ? (c.messages[r.seq - 1] as Message & { hiddenText?: string }) : null;
            return { ...r, message: m ? { ...m, text: m.hiddenText ?? m.text } : null };
          }),
        };
      }
      case 'open.resolve': {
        const c = this.member(a.chat_id as number, me);
        const r = (this.reportsOf.get(c.id) ?? []).find((x) => x.report_id === a.report_id);
        if (!r) throw new Error('bad_request:report_id');
        for (const x of this.reportsOf.get(c.id) ?? []) if (x.seq === r.seq && x.target === r.target) (x as { state: string }).state = 'resolved';
        if (a.action === 'restore' && r.seq) this.hide(c.id, r.seq, false);
        if (a.action === 'delete' && r.seq) {
          c.messages[r.seq - 1] = { ...(c.messages[r.seq - 1] as Message), deleted: true, hidden: false, text: '' };
          const m = c.messages[r.seq - 1] as Message;
          this.broadcast(c, 'message.deleted', () => ({ message: this.served(c, m) }));
        }
        this.audit(c, me, 'resolve_report', r.target, { action: a.action });
        return {};
      }
      case 'open.audit': {
        const c = this.member(a.chat_id as number, me);
        return { entries: [...(this.auditOf.get(c.id) ?? [])].reverse(), has_more: false };
      }
      case 'open.nickname.get':
        return { nickname: this.nicknames.get(me) ?? null };
      case 'open.nickname.set': {
        const n = { nickname: a.nickname as string, avatar: (a.avatar as string) ?? '' };
        this.nicknames.set(me, n);
        return { nickname: n };
      }
      case 'chats.create_group': {
        const c = this.newChat('group', (a.title as string) ?? '', [me, ...(a.user_ids as number[])]);
        return { chat: this.summary(c, me) };
      }
      case 'messages.send':
        this.member(a.chat_id as number, me);
        return {
          message: this.commitMessage(me, a.chat_id as number, a.client_id as string, a.text as string, a.reply_to as number | undefined),
        };
      case 'messages.history': {
        const chat = this.member(a.chat_id as number, me);
        const limit = (a.limit as number) ?? 50;
        let list = chat.messages;
        if (typeof a.after_seq === 'number') {
          const after = list.filter((m) => m.seq > (a.after_seq as number));
          list = after.slice(0, limit);
          return { messages: list.map((m) => this.served(chat, m)), has_more: after.length > limit };
        }
        if (typeof a.before_seq === 'number') list = list.filter((m) => m.seq < (a.before_seq as number));
        const page = list.slice(-limit);
        return { messages: page.map((m) => this.served(chat, m)), has_more: list.length > limit };
      }
      case 'messages.read': {
        const chat = this.member(a.chat_id as number, me);
        this.readAs(me, chat.id, Math.min(a.seq as number, chat.messages.length));
        return { read_seq: (chat.members.get(this.sid(chat, me)) as { read_seq: number }).read_seq };
      }
      default:
        throw new Error('unknown_op');
    }
  }

  private startSession(sock: FakeSocket, userId: number): unknown {
    const deviceId = this.nextId++;
    const token = `tok-${deviceId}`;
    this.tokens.set(token, { userId, deviceId });
    sock.userId = userId;
    sock.deviceId = deviceId;
    return { token, device_id: deviceId, profile: this.profile(userId) };
  }

  private profile(id: number): Profile {
    return (this.users.get(id) as User).profile;
  }

  private friendsOf(id: number): Profile[] {
    return [...(this.users.get(id) as User).friends].map((f) => this.profile(f));
  }

  private memoOf(userId: number): Chat {
    for (const c of this.chats.values()) if (c.kind === 'memo' && c.members.has(userId)) return c;
    return this.newChat('memo', '', [userId]);
  }

  private member(chatId: number, userId: number): Chat {
    const c = this.chats.get(chatId);
    if (!c || !c.members.has(this.sid(c, userId))) throw new Error('chat_not_found');
    return c;
  }

  /** Every account in a chat. */
  private accountsOf(c: Chat): number[] {
    return c.accounts ? [...c.accounts.keys()] : [...c.members.keys()];
  }

  private rooms(): Chat[] {
    return [...this.chats.values()].filter((c) => c.kind === 'open');
  }

  private findRoom(a: Record<string, unknown>): Chat {
    const c = this.rooms().find((x) => (a.code !== undefined ? x.room?.code === a.code : x.id === a.chat_id));
    if (!c) throw new Error('room_not_found');
    return c;
  }

  private roomOf(c: Chat): Room {
    return { ...(c.room as Room), member_count: c.members.size, last_activity_at: c.lastActivity };
  }

  private roomProfile(userId: number, memberId: number, p: RoomProfileArg): Profile {
    if (p.kind === 'real') return { ...this.profile(userId) };
    const saved = p.kind === 'saved' ? this.nicknames.get(userId) : { nickname: p.nickname, avatar: p.avatar ?? '' };
    if (!saved) throw new Error('bad_request:no saved nickname');
    return { user_id: memberId, handle: '', display_name: saved.nickname, status_message: '', avatar: saved.avatar };
  }

  private createRoom(userId: number, a: Record<string, unknown>): Chat {
    const c: Chat = { id: this.nextId++, kind: 'open', title: a.title as string, members: new Map(), messages: [], storedAt: [], lastActivity: this.clock++ };
    c.accounts = new Map();
    c.profiles = new Map();
    c.applications = [];
    c.passcode = a.passcode as string | undefined;
    c.room = {
      chat_id: c.id,
      code: `CODE${c.id}`.padEnd(10, 'x'),
      title: a.title as string,
      description: (a.description as string) ?? '',
      tags: (a.tags as string[]) ?? [],
      cover: (a.cover as string) ?? '',
      capacity: (a.capacity as number) ?? 1500,
      member_count: 0,
      listed: (a.listed as boolean) ?? true,
      join_policy: (a.join_policy as Room['join_policy']) ?? 'open',
      history: (a.history as Room['history']) ?? 'from_join',
      form: (a.form as Room['form']) ?? [],
      conditions: (a.conditions as Room['conditions']) ?? { friend_of_staff: false, min_account_age_days: 0 },
      community_cap: (a.community_cap as number | null) ?? null,
      slow_mode_seconds: (a.slow_mode_seconds as number) ?? 0,
      report_threshold: (a.report_threshold as number) ?? 3,
      application_ttl_seconds: 604800,
      notice: null,
      created_at: this.clock,
      last_activity_at: this.clock,
    };
    this.chats.set(c.id, c);
    this.addMember(c, userId, a.profile as RoomProfileArg, 'owner');
    this.audit(c, userId, 'create', null, null);
    return c;
  }

  private addMember(c: Chat, userId: number, p: RoomProfileArg, role: 'owner' | 'member'): number {
    const mid = this.nextMemberId++;
    (c.accounts as Map<number, number>).set(userId, mid);
    (c.profiles as Map<number, Profile>).set(mid, this.roomProfile(userId, mid, p));
    c.members.set(mid, { read_seq: c.messages.length, joined_seq: c.messages.length, role });
    if (role !== 'owner') this.systemMessage(c, mid, { type: 'join', user: mid });
    else this.broadcast(c, 'chat.updated', null);
    return mid;
  }

  private systemMessage(c: Chat, by: number, body: unknown): void {
    const msg: Message = {
      chat_id: c.id,
      seq: c.messages.length + 1,
      client_id: `sys-${this.nextId++}`,
      sender_id: by,
      kind: 'system',
      text: JSON.stringify(body),
      created_at: this.clock++,
      deleted: false,
      unread: 0,
    };
    c.messages.push(msg);
    c.lastActivity = msg.created_at;
    this.broadcast(c, 'message.new', () => ({ message: this.served(c, msg) }));
    c.storedAt.push(this.pos);
  }

  private join(userId: number, c: Chat, a: Record<string, unknown>): unknown {
    if (c.accounts?.has(userId)) return { chat: this.summary(c, userId) };
    const room = c.room as Room;
    if (room.join_policy === 'passcode' && a.passcode !== c.passcode) throw new Error('wrong_passcode');
    if (room.join_policy === 'approval') {
      const answers = (a.answers as Record<string, string>) ?? {};
      for (const f of room.form) if (f.required && !answers[f.key]) throw new Error(`bad_request:answers.${f.key}`);
      const app = {
        application_id: this.nextId++,
        chat_id: c.id,
        state: 'pending' as const,
        profile: this.roomProfile(userId, 0, a.profile as RoomProfileArg),
        answers,
        created_at: this.clock++,
        expires_at: this.clock + 604_800_000,
        decided_at: null,
        reason: null,
        user_id: userId,
        joinProfile: a.profile as RoomProfileArg,
      };
      (c.applications as Application[]).push(app);
      for (const [uid, mid] of c.accounts as Map<number, number>) {
        if ((c.members.get(mid)?.role ?? 'member') === 'member') continue;
        for (const s of this.sockets) if (s.userId === uid) s.deliver({ event: 'open.application', data: { application: this.staffView(app) } });
      }
      return { application: this.mine(app) };
    }
    this.addMember(c, userId, a.profile as RoomProfileArg, 'member');
    this.notifyJoined(c, userId);
    return { chat: this.summary(c, userId) };
  }

  private notifyJoined(c: Chat, userId: number): void {
    for (const s of this.sockets) if (s.userId === userId) s.deliver({ event: 'chat.updated', pos: this.pos, data: { chat: this.summary(c, userId) } });
  }

  private decide(staff: number, chatId: number, appId: number, approve: boolean, reason?: string): Application {
    const c = this.member(chatId, staff);
    const app = (c.applications ?? []).find((x) => x.application_id === appId);
    if (!app) throw new Error('application_not_found');
    app.state = approve ? 'approved' : 'rejected';
    this.audit(c, staff, approve ? 'approve' : 'reject', null, reason ? { reason } : null);
    app.decided_at = this.clock++;
    app.reason = reason ?? null;
    if (approve) {
      this.addMember(c, app.user_id, (app as unknown as { joinProfile: RoomProfileArg }).joinProfile, 'member');
      this.notifyJoined(c, app.user_id);
    }
    for (const s of this.sockets) if (s.userId === app.user_id) s.deliver({ event: 'open.application', data: { application: this.mine(app) } });
    return this.staffView(app);
  }

  private mine(app: Application & { user_id: number }): Application {
    const { user_id: _u, joinProfile: _p, ...rest } = app as Application & { user_id: number; joinProfile?: unknown };
    return { ...rest };
  }

  private staffView(app: Application & { user_id: number }): Application {
    return { ...this.mine(app), profile: { ...app.profile, user_id: 0 } };
  }

  private newChat(kind: Chat['kind'], title: string, userIds: number[]): Chat {
    const c: Chat = { id: this.nextId++, kind, title, members: new Map(), messages: [], storedAt: [], lastActivity: this.clock++ };
    userIds.forEach((u, i) => c.members.set(u, { read_seq: 0, joined_seq: 0, role: i === 0 ? 'owner' : 'member' }));
    this.chats.set(c.id, c);
    this.broadcast(c, 'chat.updated', null);
    return c;
  }

  private commitMessage(userId: number, chatId: number, clientId: string, text: string, replyTo?: number): Message {
    const chat = this.chats.get(chatId) as Chat;
    const sender = this.sid(chat, userId);
    const dup = chat.messages.find((m) => m.sender_id === sender && m.client_id === clientId);
    if (dup) {
      if (dup.text !== text) throw new Error('duplicate_client_id');
      return this.served(chat, dup);
    }
    const msg: Message = {
      chat_id: chatId,
      seq: chat.messages.length + 1,
      client_id: clientId,
      sender_id: sender,
      kind: 'text',
      text,
      reply_to: replyTo ?? null,
      created_at: this.clock++,
      deleted: false,
      unread: 0,
    };
    chat.messages.push(msg);
    chat.lastActivity = msg.created_at;
    (chat.members.get(sender) as { read_seq: number }).read_seq = msg.seq;
    this.broadcast(chat, 'message.new', () => ({ message: this.served(chat, msg) }));
    chat.storedAt.push(this.pos);
    return this.served(chat, msg);
  }

  /**
   * As the server's sync lists them: the messages stored after `since` that the user can see
   * (after the seq they joined at), ascending, the newest `limit` of them.
   */
  private storedSince(chat: Chat, userId: number, since: number, limit: number): Message[] {
    const joined = chat.members.get(this.sid(chat, userId))?.joined_seq ?? 0;
    const visible = chat.messages.filter((m, i) => (chat.storedAt[i] as number) > since && m.seq > joined);
    return visible.slice(-limit).map((m) => this.served(chat, m));
  }

  private served(chat: Chat, m: Message): Message {
    let unread = 0;
    for (const [, mem] of chat.members) if (mem.read_seq < m.seq) unread++;
    return { ...m, unread };
  }

  private summary(c: Chat, me: number): ChatSummary {
    const members: Member[] = [...c.members].map(([uid, m]) => ({
      user_id: uid,
      role: m.role,
      read_seq: m.read_seq,
      joined_seq: m.joined_seq,
      profile: c.profiles ? (c.profiles.get(uid) as Profile) : this.profile(uid),
      ...((m as { permissions?: Member['permissions'] }).permissions ? { permissions: (m as { permissions?: Member['permissions'] }).permissions } : {}),
    }));
    const self = this.sid(c, me);
    const mine = c.members.get(self) as { read_seq: number };
    const last = c.messages[c.messages.length - 1];
    return {
      chat_id: c.id,
      kind: c.kind,
      title: c.title,
      created_at: 0,
      last_seq: c.messages.length,
      last_message: last ? this.served(c, last) : null,
      last_activity_at: c.lastActivity,
      read_seq: mine.read_seq,
      unread_count: c.messages.filter((m) => m.seq > mine.read_seq && m.sender_id !== self).length,
      member_count: c.members.size,
      members,
      left: false,
      self_id: self,
      ...(c.room ? { open: this.roomOf(c) } : {}),
    };
  }

  /** Records a change at a new position for every member and pushes the event to them. */
  private broadcast(chat: Chat, event: string, data: ((uid: number) => unknown) | null): void {
    const pos = ++this.pos;
    for (const uid of this.accountsOf(chat)) {
      let list = this.changes.get(uid);
      if (!list) this.changes.set(uid, (list = []));
      list.push({ pos, chatId: chat.id });
      if (this.loseEvents) continue;
      for (const s of this.sockets) {
        if (s.userId !== uid) continue;
        const d = data ? data(uid) : { chat: this.summary(chat, uid) };
        s.deliver({ event, pos, data: d });
      }
    }
  }

  /** While set, changes are stored but their events are lost (a cluster node lost a batch). */
  loseEvents = false;

  /** What a cluster node does after skipping a lost batch: tell every connection to sync. */
  tellSync(): void {
    for (const s of this.sockets) s.deliver({ event: 'sync.needed', data: {} });
  }
}
