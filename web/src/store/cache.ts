/**
 * Local cache in IndexedDB, one database per user, so the app opens instantly with the
 * last known chats, friends and recent messages, and keeps unsent messages across reloads.
 */
import type { ChatSummary, Message, Profile } from '../protocol/types';
import type { Cursor } from './cursor';
import type { PendingMessage } from './state';

const VERSION = 1;
/** How many of the newest held messages of each chat are kept on disk. */
export const CACHED_MESSAGES_PER_CHAT = 200;

export interface Snapshot {
  pos: Cursor;
  me: Profile | null;
  chats: ChatSummary[];
  friends: Profile[];
  messages: Map<number, Message[]>;
  outbox: PendingMessage[];
}

export interface CacheWrite {
  pos?: Cursor;
  me?: Profile;
  chats?: ChatSummary[];
  removedChats?: number[];
  friends?: Profile[];
  removedFriends?: number[];
  /** Per chat: the newest held messages (a contiguous run); older cached ones are dropped. */
  messages?: Map<number, Message[]>;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export function dbName(userId: number): string {
  return `modu-user-${userId}`;
}

export class Cache {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly name: string,
    private readonly idb: IDBFactory,
  ) {}

  static async open(userId: number, idb: IDBFactory = indexedDB): Promise<Cache> {
    const name = dbName(userId);
    const open = idb.open(name, VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore('kv');
      db.createObjectStore('chats', { keyPath: 'chat_id' });
      db.createObjectStore('friends', { keyPath: 'user_id' });
      db.createObjectStore('messages', { keyPath: ['chat_id', 'seq'] });
      db.createObjectStore('outbox', { keyPath: 'client_id' });
    };
    const db = await req(open);
    return new Cache(db, name, idb);
  }

  async load(): Promise<Snapshot> {
    const tx = this.db.transaction(['kv', 'chats', 'friends', 'messages', 'outbox'], 'readonly');
    const [pos, me, chats, friends, messages, outbox] = await Promise.all([
      req(tx.objectStore('kv').get('pos')) as Promise<Cursor | undefined>,
      req(tx.objectStore('kv').get('me')) as Promise<Profile | undefined>,
      req(tx.objectStore('chats').getAll()) as Promise<ChatSummary[]>,
      req(tx.objectStore('friends').getAll()) as Promise<Profile[]>,
      req(tx.objectStore('messages').getAll()) as Promise<Message[]>,
      req(tx.objectStore('outbox').getAll()) as Promise<PendingMessage[]>,
    ]);
    const byChat = new Map<number, Message[]>();
    for (const m of messages) {
      let list = byChat.get(m.chat_id);
      if (!list) byChat.set(m.chat_id, (list = []));
      list.push(m);
    }
    outbox.sort((a, b) => a.created_at - b.created_at);
    return { pos: pos ?? 0, me: me ?? null, chats, friends, messages: byChat, outbox };
  }

  /** Writes everything in one transaction, so the stored position always matches the data. */
  async write(w: CacheWrite): Promise<void> {
    const tx = this.db.transaction(['kv', 'chats', 'friends', 'messages'], 'readwrite');
    const kv = tx.objectStore('kv');
    if (w.pos !== undefined) kv.put(w.pos, 'pos');
    if (w.me) kv.put(w.me, 'me');
    const chats = tx.objectStore('chats');
    const msgs = tx.objectStore('messages');
    for (const c of w.chats ?? []) chats.put(c);
    for (const id of w.removedChats ?? []) {
      chats.delete(id);
      msgs.delete(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]));
    }
    const friends = tx.objectStore('friends');
    for (const f of w.friends ?? []) friends.put(f);
    for (const id of w.removedFriends ?? []) friends.delete(id);
    for (const [chatId, list] of w.messages ?? []) {
      const tail = list.slice(-CACHED_MESSAGES_PER_CHAT);
      const from = tail[0]?.seq ?? Number.MAX_SAFE_INTEGER;
      // Drop what is below the kept tail: the cached run must stay contiguous.
      msgs.delete(IDBKeyRange.bound([chatId, 0], [chatId, from], false, true));
      for (const m of tail) msgs.put(m);
    }
    await done(tx);
  }

  async putPending(p: PendingMessage): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite');
    tx.objectStore('outbox').put(p);
    await done(tx);
  }

  async deletePending(clientId: string): Promise<void> {
    const tx = this.db.transaction('outbox', 'readwrite');
    tx.objectStore('outbox').delete(clientId);
    await done(tx);
  }

  /** Closes and deletes the database (on log out). */
  async destroy(): Promise<void> {
    this.db.close();
    await req(this.idb.deleteDatabase(this.name) as IDBRequest<unknown>);
  }

  close(): void {
    this.db.close();
  }
}
