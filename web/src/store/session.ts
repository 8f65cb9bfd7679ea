/** The signed-in device's credentials, kept in localStorage. */
export interface Session {
  token: string;
  user_id: number;
  device_id: number;
}

const KEY = 'modu.session';

export function loadSession(storage: Storage): Session | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.user_id !== 'number' || typeof s.device_id !== 'number') {
      return null;
    }
    return { token: s.token, user_id: s.user_id, device_id: s.device_id };
  } catch {
    return null;
  }
}

export function saveSession(storage: Storage, s: Session | null): void {
  if (s) storage.setItem(KEY, JSON.stringify(s));
  else storage.removeItem(KEY);
}

/**
 * A client message id: unique per sender, at most 64 characters. Other members of the chat
 * see it, so it is random and carries nothing that identifies the device or account (open
 * chat members must not be linkable across rooms).
 */
export function newClientId(now: number): string {
  const rnd = new Uint8Array(12);
  crypto.getRandomValues(rnd);
  const hex = Array.from(rnd, (b) => b.toString(16).padStart(2, '0')).join('');
  return `w-${now.toString(36)}-${hex}`;
}
