/**
 * An in-memory stand-in for `modu serve` that speaks the client protocol over fake sockets.
 * It implements the operations the store uses, with the documented semantics (positions,
 * idempotent sends, read pointers), so store tests exercise real protocol flows.
 */
import type { SocketLike } from '../protocol/connection';
import type { ChatSummary, Member, Message, Profile } from '../protocol/types';

interface User {
  profile: Profile;
  password: string;
  friends: Set<number>;
}

interface Chat {
  id: number;
  kind: 'direct' | 'group' | 'memo';
  title: string;
  members: Map<number, { read_seq: number; joined_seq: number; role: 'owner' | 'member' }>;
  messages: Message[];
  lastActivity: number;
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
  /** When set, requests with these ops are processed but their responses are lost. */
  dropResponsesFor = new Set<string>();

  constructor(private readonly server: FakeServer) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    const frame = JSON.parse(data) as Frame;
    this.sent.push(frame);
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
    queueMicrotask(() => {
      if (this.readyState === 1) this.onmessage?.({ data });
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
  clock = 1_700_000_000_000;
  /** Whether new connections are accepted. */
  up = true;
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
    const m = chat.members.get(userId);
    if (!m || seq <= m.read_seq) return;
    m.read_seq = seq;
    this.broadcast(chat, 'chat.read', () => ({ chat_id: chatId, user_id: userId, read_seq: seq }));
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
        const ids = new Set((this.changes.get(me) ?? []).filter((c) => c.pos > since).map((c) => c.chatId));
        return {
          pos: this.pos,
          chats: [...ids].map((id) => this.summary(this.chats.get(id) as Chat, me)),
          friends: since === 0 ? this.friendsOf(me) : [],
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
        return { read_seq: (chat.members.get(me) as { read_seq: number }).read_seq };
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
    if (!c || !c.members.has(userId)) throw new Error('chat_not_found');
    return c;
  }

  private newChat(kind: Chat['kind'], title: string, userIds: number[]): Chat {
    const c: Chat = { id: this.nextId++, kind, title, members: new Map(), messages: [], lastActivity: this.clock++ };
    userIds.forEach((u, i) => c.members.set(u, { read_seq: 0, joined_seq: 0, role: i === 0 ? 'owner' : 'member' }));
    this.chats.set(c.id, c);
    this.broadcast(c, 'chat.updated', null);
    return c;
  }

  private commitMessage(userId: number, chatId: number, clientId: string, text: string, replyTo?: number): Message {
    const chat = this.chats.get(chatId) as Chat;
    const dup = chat.messages.find((m) => m.sender_id === userId && m.client_id === clientId);
    if (dup) {
      if (dup.text !== text) throw new Error('duplicate_client_id');
      return this.served(chat, dup);
    }
    const msg: Message = {
      chat_id: chatId,
      seq: chat.messages.length + 1,
      client_id: clientId,
      sender_id: userId,
      kind: 'text',
      text,
      reply_to: replyTo ?? null,
      created_at: this.clock++,
      deleted: false,
      unread: 0,
    };
    chat.messages.push(msg);
    chat.lastActivity = msg.created_at;
    (chat.members.get(userId) as { read_seq: number }).read_seq = msg.seq;
    this.broadcast(chat, 'message.new', () => ({ message: this.served(chat, msg) }));
    return this.served(chat, msg);
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
      profile: this.profile(uid),
    }));
    const mine = c.members.get(me) as { read_seq: number };
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
      unread_count: c.messages.filter((m) => m.seq > mine.read_seq && m.sender_id !== me).length,
      member_count: c.members.size,
      members,
      left: false,
    };
  }

  /** Records a change at a new position for every member and pushes the event to them. */
  private broadcast(chat: Chat, event: string, data: ((uid: number) => unknown) | null): void {
    const pos = ++this.pos;
    for (const uid of chat.members.keys()) {
      let list = this.changes.get(uid);
      if (!list) this.changes.set(uid, (list = []));
      list.push({ pos, chatId: chat.id });
      for (const s of this.sockets) {
        if (s.userId !== uid) continue;
        const d = data ? data(uid) : { chat: this.summary(chat, uid) };
        s.deliver({ event, pos, data: d });
      }
    }
  }
}
