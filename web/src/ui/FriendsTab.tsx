import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { Profile } from '../protocol/types';
import { Avatar } from './Avatar';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { FormButtons, FormError } from './formParts';
import { IconAddPerson, IconSearch } from './icons';
import { ProfileDialog } from './ProfileDialog';

export function FriendsTab() {
  const { store, t } = useApp();
  const [adding, setAdding] = useState(false);
  const [shown, setShown] = useState<Profile | null>(null);
  const [query, setQuery] = useState('');
  const me = store.me;
  const q = query.trim().toLowerCase();
  const friends = [...store.friends.values()]
    .filter((f) => !q || f.display_name.toLowerCase().includes(q) || f.handle.includes(q))
    .sort((a, b) => a.display_name.localeCompare(b.display_name));

  return (
    <div class="tab-page">
      <header class="pane-head">
        <h1>{t('tab.friends')}</h1>
        <button class="icon-btn" onClick={() => setAdding(true)} aria-label={t('friends.add')} title={t('friends.add')}>
          <IconAddPerson />
        </button>
      </header>
      <div class="search">
        <IconSearch />
        <input type="search" placeholder={t('friends.search')} aria-label={t('friends.search')} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      <div class="scroll">
        {me && !q && (
          <button class="row profile-row me" onClick={() => setShown(me)} aria-label={`${t('friends.myProfile')}: ${me.display_name}`}>
            <Avatar profile={me} size={56} />
            <span class="row-main">
              <span class="row-title">{me.display_name || me.handle}</span>
              {me.status_message && <span class="row-sub">{me.status_message}</span>}
            </span>
          </button>
        )}
        <h2 class="section-title">{t('friends.count', { n: friends.length })}</h2>
        {friends.length === 0 && !q && <p class="empty">{t('friends.empty')}</p>}
        <ul class="list" aria-label={t('tab.friends')}>
          {friends.map((f) => (
            <li key={f.user_id}>
              <button class="row profile-row" onClick={() => setShown(f)} data-handle={f.handle}>
                <Avatar profile={f} size={44} />
                <span class="row-main">
                  <span class="row-title">{f.display_name || f.handle}</span>
                  {f.status_message && <span class="row-sub">{f.status_message}</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </div>
      {adding && <AddFriendDialog onClose={() => setAdding(false)} />}
      {shown && <ProfileDialog profile={store.profileOf(shown.user_id) ?? shown} onClose={() => setShown(null)} />}
    </div>
  );
}

function AddFriendDialog({ onClose }: { onClose: () => void }) {
  const { store, t, toast } = useApp();
  const [handle, setHandle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const f = await store.addFriend(handle.trim().toLowerCase().replace(/^@/, ''));
      toast(t('friends.added', { name: f.display_name || f.handle }));
      onClose();
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('friends.addTitle')} onClose={onClose}>
      <form onSubmit={submit} class="dialog-body">
        <label class="field">
          <span>{t('auth.handle')}</span>
          <input name="friend-handle" value={handle} onInput={(e) => setHandle(e.currentTarget.value)} autocapitalize="none" spellcheck={false} required autofocus />
        </label>
        <FormError error={error} />
        <FormButtons submitLabel={t('friends.addButton')} onCancel={onClose} disabled={busy || !handle.trim()} />
      </form>
    </Dialog>
  );
}
