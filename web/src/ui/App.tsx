import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { resolveLang, translator } from '../i18n';
import type { AppStore } from '../store/store';
import { AuthScreen } from './AuthScreen';
import { AppContext, type Ctx, type Route, type Tab, useStoreVersion } from './context';
import { MainScreen } from './MainScreen';
import { type Drafts, type Settings, saveSettings } from './settings';

function parseHash(hash: string): Route {
  const [, tab, chat] = hash.replace(/^#/, '').split('/');
  const t: Tab = tab === 'friends' || tab === 'more' || tab === 'open' ? tab : 'chats';
  // `#/open/<code>`: a room to preview and join (the link the open chat shares).
  if (t === 'open') return { tab: t, chat: null, code: chat && /^[A-Za-z0-9]{1,32}$/.test(chat) ? chat : null };
  const id = Number(chat);
  return { tab: t, chat: Number.isInteger(id) && id > 0 ? id : null, code: null };
}

function toHash(r: Route): string {
  if (r.tab === 'open' && r.code) return `#/open/${r.code}`;
  return `#/${r.tab}${r.chat !== null && r.tab !== 'open' ? `/${r.chat}` : ''}`;
}

export function App(props: { store: AppStore; initialSettings: Settings; drafts: Drafts }) {
  const { store } = props;
  useStoreVersion(store);
  const [settings, setSettingsState] = useState(props.initialSettings);
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash || '#/friends'));
  const [toastText, setToastText] = useState<string | null>(null);

  const lang = resolveLang(settings.lang, navigator.languages ?? [navigator.language]);
  const t = useMemo(() => translator(lang), [lang]);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  useEffect(() => {
    const root = document.documentElement;
    if (settings.theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = settings.theme;
  }, [settings.theme]);

  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The store follows the open chat (fetches, marks read).
  const openChat = route.chat;
  const signedIn = !!store.session;
  useEffect(() => {
    if (signedIn) void store.openChat(openChat);
  }, [store, openChat, signedIn]);

  const navigate = useCallback((r: Partial<Route>) => {
    const next = { ...parseHash(location.hash), code: null, ...r };
    const hash = toHash(next);
    if (location.hash !== hash) location.hash = hash;
    setRoute(next);
  }, []);

  const toast = useCallback((text: string) => {
    setToastText(text);
    window.setTimeout(() => setToastText((cur) => (cur === text ? null : cur)), 3500);
  }, []);

  const ctx: Ctx = {
    store,
    t,
    lang,
    settings,
    setSettings: (s) => {
      saveSettings(localStorage, s);
      setSettingsState(s);
    },
    drafts: props.drafts,
    route,
    navigate,
    toast,
  };

  return (
    <AppContext.Provider value={ctx}>
      {signedIn ? <MainScreen /> : <AuthScreen />}
      {toastText && (
        <div class="toast" role="status">
          {toastText}
        </div>
      )}
    </AppContext.Provider>
  );
}
