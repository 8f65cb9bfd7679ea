import type { Lang, Translate } from '../i18n';
import { localDay } from '../store/state';

const locale = (lang: Lang): string => (lang === 'ko' ? 'ko-KR' : 'en-US');

/** "오후 3:12" / "3:12 PM". */
export function formatTime(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(locale(lang), { hour: 'numeric', minute: '2-digit' }).format(ms);
}

/** A day separator: "2025년 3월 5일 수요일" / "Wednesday, March 5, 2025". */
export function formatDay(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'full' }).format(ms);
}

/** Chat list time: today's time, "Yesterday", this year's date, or a full date. */
export function formatListTime(ms: number, now: number, lang: Lang, t: Translate): string {
  const days = localDay(now) - localDay(ms);
  if (days <= 0) return formatTime(ms, lang);
  if (days === 1) return t('common.yesterday');
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(locale(lang), sameYear ? { month: 'short', day: 'numeric' } : { dateStyle: 'short' }).format(ms);
}

export function formatDateTime(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}
