import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { Application, Room } from '../protocol/types';
import { useApp } from './context';
import { formatDateTime } from './format';
import { IconNewChat, IconPerson, IconSearch } from './icons';
import { CreateRoomDialog } from './OpenCreate';
import { JoinDialog } from './OpenJoin';
import { codeFromInput } from './openForm';
import { NicknameDialog, RoomCard, RoomCover } from './openView';

type Listing = { kind: 'popular' | 'search'; query: string; rooms: Room[]; hasMore: boolean };

/** 오픈채팅: search and browse rooms, join by code or link, create one, follow my applications. */
export function OpenTab() {
  const { store, t, navigate, route, toast } = useApp();
  const [query, setQuery] = useState('');
  const [listing, setListing] = useState<Listing | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [nickname, setNickname] = useState(false);
  const seq = useRef(0);
  const online = store.net === 'online';

  const load = async (q: string, more = false) => {
    const mine = ++seq.current;
    setLoading(true);
    setError(null);
    try {
      const offset = more && listing ? listing.rooms.length : 0;
      const res = q ? await store.searchRooms(q, offset) : await store.popularRooms(offset);
      if (mine !== seq.current) return;
      setListing({
        kind: q ? 'search' : 'popular',
        query: q,
        rooms: more && listing ? [...listing.rooms, ...res.rooms] : res.rooms,
        hasMore: res.has_more,
      });
    } catch (e) {
      if (mine === seq.current) setError(errorText(t, errorCode(e)));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  };

  useEffect(() => {
    if (!online) return;
    void load(listing?.query ?? '');
    void store.loadMyApplications().catch(() => undefined);
  }, [online]);

  // Search as you type (after a pause); an empty box shows the popular rooms again.
  useEffect(() => {
    if (!online) return;
    const q = query.trim();
    if (q === (listing?.query ?? '')) return;
    const timer = setTimeout(() => void load(q), 300);
    return () => clearTimeout(timer);
  }, [query]);

  const joinByCode = (e: Event) => {
    e.preventDefault();
    const c = codeFromInput(code);
    if (!c) {
      setCodeError(t('open.code.invalid'));
      return;
    }
    setCodeError(null);
    setCode('');
    navigate({ tab: 'open', code: c });
  };

  const myOpenChats = store.sortedChats.filter((c) => c.kind === 'open');
  const apps = [...store.myApplications.values()].sort((a, b) => b.created_at - a.created_at).slice(0, 10);

  return (
    <div class="tab-page open-tab">
      <header class="pane-head">
        <h1>{t('tab.open')}</h1>
        <span class="head-actions">
          <button class="icon-btn" onClick={() => setNickname(true)} aria-label={t('open.profile.savedTitle')} title={t('open.profile.savedTitle')}>
            <IconPerson />
          </button>
          <button class="icon-btn open-create" onClick={() => setCreating(true)} aria-label={t('open.create')} title={t('open.create')}>
            <IconNewChat />
          </button>
        </span>
      </header>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void load(query.trim());
        }}
      >
        <IconSearch />
        <input
          type="search"
          name="open-search"
          placeholder={t('open.search')}
          aria-label={t('open.search')}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
      </form>
      <div class="scroll">
        <form class="code-join" onSubmit={joinByCode}>
          <input
            name="open-code"
            value={code}
            placeholder={t('open.code.placeholder')}
            aria-label={t('open.code.placeholder')}
            autocapitalize="none"
            spellcheck={false}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          <button class="btn small" type="submit" disabled={!code.trim()}>
            {t('open.code.join')}
          </button>
        </form>
        {codeError && (
          <p class="form-error inline" role="alert">
            {codeError}
          </p>
        )}

        {apps.length > 0 && (
          <section aria-labelledby="my-apps">
            <h2 class="section-title" id="my-apps">
              {t('open.apps.mine')}
            </h2>
            <ul class="list my-apps">
              {apps.map((a) => (
                <li key={a.application_id}>
                  <ApplicationRow app={a} onOpen={() => a.room && navigate({ tab: 'open', code: a.room.code })} />
                </li>
              ))}
            </ul>
          </section>
        )}

        {myOpenChats.length > 0 && !listing?.query && (
          <section aria-labelledby="my-open">
            <h2 class="section-title" id="my-open">
              {t('open.mine')}
            </h2>
            <ul class="list">
              {myOpenChats.map((c) => (
                <li key={c.chat_id}>
                  <button class="row my-open-row" data-chat-id={c.chat_id} onClick={() => navigate({ tab: 'chats', chat: c.chat_id })}>
                    <RoomCover room={c.open} title={c.title} size={40} />
                    <span class="row-main">
                      <span class="row-title">
                        <span class="title-text">{c.title || c.open?.title}</span>
                        <span class="member-count">{c.member_count}</span>
                      </span>
                    </span>
                    {c.unread_count > 0 && <span class="badge">{c.unread_count > 999 ? '999+' : c.unread_count}</span>}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}

        <h2 class="section-title">{listing?.kind === 'search' ? t('open.results', { q: listing.query }) : t('open.popular')}</h2>
        {error && (
          <p class="form-error inline" role="alert">
            {error}
          </p>
        )}
        {!online && !listing && <p class="empty">{t('error.offline')}</p>}
        {listing && listing.rooms.length === 0 && !loading && (
          <p class="empty">{listing.kind === 'search' ? t('open.noResults') : t('open.noRooms')}</p>
        )}
        <ul class="room-cards" aria-label={listing?.kind === 'search' ? t('open.results', { q: listing.query }) : t('open.popular')}>
          {listing?.rooms.map((r) => (
            <li key={r.chat_id}>
              <RoomCard room={r} onOpen={() => navigate({ tab: 'open', code: r.code })} />
            </li>
          ))}
        </ul>
        {loading && (
          <div class="center">
            <span class="spinner" aria-label={t('room.loading')} />
          </div>
        )}
        {listing?.hasMore && !loading && (
          <div class="center">
            <button class="btn" onClick={() => void load(listing.query, true)}>
              {t('open.more')}
            </button>
          </div>
        )}
      </div>
      {route.code && <JoinDialog key={route.code} code={route.code} onClose={() => navigate({ tab: 'open', code: null })} />}
      {creating && (
        <CreateRoomDialog
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            toast(t('open.created'));
            navigate({ tab: 'chats', chat: id });
          }}
        />
      )}
      {nickname && <NicknameDialog onClose={() => setNickname(false)} />}
    </div>
  );
}

export function appStateLabel(t: ReturnType<typeof useApp>['t'], a: Application): string {
  return t(`open.app.${a.state}`);
}

function ApplicationRow({ app, onOpen }: { app: Application; onOpen: () => void }) {
  const { store, t, lang, toast } = useApp();
  return (
    <div class="row app-row" data-application-id={app.application_id} data-state={app.state}>
      <button class="app-open" onClick={onOpen}>
        <RoomCover room={app.room} size={40} />
        <span class="row-main">
          <span class="row-title">
            <span class="title-text">{app.room?.title ?? t('open.someRoom')}</span>
          </span>
          <span class="row-sub">
            {formatDateTime(app.created_at, lang)}
            {app.reason ? ` · ${app.reason}` : ''}
          </span>
        </span>
      </button>
      <span class={`state-chip ${app.state}`}>{appStateLabel(t, app)}</span>
      {app.state === 'pending' && (
        <button
          class="btn small"
          onClick={async () => {
            try {
              await store.cancelApplication(app.application_id);
            } catch (e) {
              toast(errorText(t, errorCode(e)));
            }
          }}
        >
          {t('open.apps.cancel')}
        </button>
      )}
    </div>
  );
}
