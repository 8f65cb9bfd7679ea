/** Device-local preferences: language and theme. */
import type { LangSetting } from '../i18n';

export type ThemeSetting = 'system' | 'light' | 'dark';

export interface Settings {
  lang: LangSetting;
  theme: ThemeSetting;
}

const KEY = 'modu.settings';

export function loadSettings(storage: Storage): Settings {
  try {
    const s = JSON.parse(storage.getItem(KEY) ?? '{}') as Partial<Settings>;
    return {
      lang: s.lang === 'ko' || s.lang === 'en' ? s.lang : 'auto',
      theme: s.theme === 'light' || s.theme === 'dark' ? s.theme : 'system',
    };
  } catch {
    return { lang: 'auto', theme: 'system' };
  }
}

export function saveSettings(storage: Storage, s: Settings): void {
  storage.setItem(KEY, JSON.stringify(s));
}

/** Per-chat unsent text, so a draft survives switching chats and reloading. */
export class Drafts {
  private readonly map: Map<number, string>;
  constructor(private readonly storage: Storage) {
    let entries: [number, string][] = [];
    try {
      entries = JSON.parse(storage.getItem('modu.drafts') ?? '[]') as [number, string][];
    } catch {
      // start empty
    }
    this.map = new Map(entries);
  }
  get(chatId: number): string {
    return this.map.get(chatId) ?? '';
  }
  set(chatId: number, text: string): void {
    if (text) this.map.set(chatId, text);
    else this.map.delete(chatId);
    this.storage.setItem('modu.drafts', JSON.stringify([...this.map]));
  }
}
