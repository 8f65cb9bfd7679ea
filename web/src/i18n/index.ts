import { en, type MessageKey } from './en';
import { ko } from './ko';

export type Lang = 'en' | 'ko';
export type LangSetting = Lang | 'auto';
export type { MessageKey };

const tables: Record<Lang, Record<MessageKey, string>> = { en, ko };

/** The language to use for a setting: `auto` follows the browser's preferences. */
export function resolveLang(setting: LangSetting, preferred: readonly string[]): Lang {
  if (setting !== 'auto') return setting;
  for (const l of preferred) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ko' || base === 'en') return base;
  }
  return 'en';
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(lang: Lang): Translate {
  const table = tables[lang];
  return (key, params) => {
    const s = table[key] ?? en[key];
    if (!params) return s;
    return s.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  };
}

/** A message for an error code, falling back to a generic one that names the code. */
export function errorText(t: Translate, code: string): string {
  const key = `error.${code}` as MessageKey;
  return key in en ? t(key) : t('error.generic', { code });
}
