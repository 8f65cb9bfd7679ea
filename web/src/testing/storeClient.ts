/**
 * What the store's unit tests share: an `AppStore` wired to a `FakeServer` over a fake socket,
 * with in-memory local storage and a fake IndexedDB, and a way to wait for it.
 */
import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto'; // IDBKeyRange and friends, which the cache uses
import { Connection } from '../protocol/connection';
import { Cache } from '../store/cache';
import { AppStore } from '../store/store';
import type { FakeServer } from './fakeServer';

/** `localStorage` in memory. */
export class MemoryStorage implements Storage {
  private m = new Map<string, string>();
  get length(): number {
    return this.m.size;
  }
  clear(): void {
    this.m.clear();
  }
  getItem(k: string): string | null {
    return this.m.get(k) ?? null;
  }
  key(i: number): string | null {
    return [...this.m.keys()][i] ?? null;
  }
  removeItem(k: string): void {
    this.m.delete(k);
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v);
  }
}

/** Waits until `cond` holds; fails after two seconds, naming `what` it waited for. */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * A device of the web client, not started yet. Pass another client's `storage` and `idb` to
 * open the same device again (its saved session and cache).
 */
export function client(server: FakeServer, storage = new MemoryStorage(), idb = new IDBFactory()) {
  const connection = new Connection({ url: 'ws://fake', createSocket: server.factory, backoffMinMs: 4, backoffMaxMs: 8 });
  const store = new AppStore({
    connection,
    storage,
    openCache: (uid) => Cache.open(uid, idb),
    device: { kind: 'web', name: 'test' },
    isVisible: () => true,
  });
  return { store, connection, storage, idb };
}

/** A started client of a new account `handle` (password `password1`), online and synced. */
export async function signedUp(server: FakeServer, handle: string) {
  const c = client(server);
  await c.store.start();
  await until(() => c.store.net === 'online', 'online');
  await c.store.register(handle, 'password1', handle.toUpperCase());
  await until(() => c.store.net === 'online' && c.store.synced, 'synced');
  return c;
}
