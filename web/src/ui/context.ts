import { createContext } from 'preact';
import { useContext, useEffect, useReducer } from 'preact/hooks';
import type { Lang, Translate } from '../i18n';
import type { AppStore } from '../store/store';
import type { Drafts, Settings } from './settings';

export type Tab = 'friends' | 'chats' | 'open' | 'more';

export interface Route {
  tab: Tab;
  chat: number | null;
  /** The open chat tab: a room code being previewed (`#/open/<code>`). */
  code: string | null;
}

export interface Ctx {
  store: AppStore;
  t: Translate;
  lang: Lang;
  settings: Settings;
  setSettings: (s: Settings) => void;
  drafts: Drafts;
  route: Route;
  navigate: (r: Partial<Route>) => void;
  toast: (text: string) => void;
}

export const AppContext = createContext<Ctx | null>(null);

export function useApp(): Ctx {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('AppContext missing');
  return ctx;
}

/** Re-renders the component whenever the store changes. */
export function useStoreVersion(store: AppStore): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => store.subscribe(() => bump(0)), [store]);
}

export function useMediaQuery(query: string): boolean {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const mql = window.matchMedia(query);
  useEffect(() => {
    const m = window.matchMedia(query);
    const onChange = () => bump(0);
    m.addEventListener('change', onChange);
    return () => m.removeEventListener('change', onChange);
  }, [query]);
  return mql.matches;
}
