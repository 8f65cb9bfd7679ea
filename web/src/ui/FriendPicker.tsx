import { useState } from 'preact/hooks';
import type { UserId } from '../protocol/types';
import { Avatar } from './Avatar';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { FormButtons, FormError } from './formParts';
import { IconCheck } from './icons';

/** Pick friends (for a new group, or to invite into one). */
export function FriendPicker(props: {
  title: string;
  confirmLabel: string;
  exclude?: Set<UserId>;
  withTitle?: boolean;
  onClose: () => void;
  onConfirm: (ids: UserId[], title: string) => Promise<void>;
}) {
  const { store, t } = useApp();
  const [picked, setPicked] = useState<Set<UserId>>(new Set());
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const friends = [...store.friends.values()]
    .filter((f) => !props.exclude?.has(f.user_id))
    .sort((a, b) => a.display_name.localeCompare(b.display_name));
  const toggle = (id: UserId) => {
    const next = new Set(picked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm([...picked], title.trim());
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <form class="dialog-body" onSubmit={submit}>
        {props.withTitle && (
          <label class="field">
            <span>{t('group.title')}</span>
            <input name="group-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} maxLength={64} />
          </label>
        )}
        <fieldset class="picker">
          <legend>
            {t('group.pick')} · {t('group.selected', { n: picked.size })}
          </legend>
          {friends.length === 0 && <p class="empty">{props.exclude ? t('group.noFriendsToInvite') : t('friends.empty')}</p>}
          {friends.map((f) => (
            <label key={f.user_id} class={`row pick-row${picked.has(f.user_id) ? ' picked' : ''}`} data-handle={f.handle}>
              <Avatar profile={f} size={40} />
              <span class="row-main">
                <span class="row-title">{f.display_name || f.handle}</span>
              </span>
              <input type="checkbox" class="sr-only" checked={picked.has(f.user_id)} onChange={() => toggle(f.user_id)} />
              <span class="check" aria-hidden="true">
                <IconCheck />
              </span>
            </label>
          ))}
        </fieldset>
        <FormError error={error} />
        <FormButtons submitLabel={props.confirmLabel} onCancel={props.onClose} disabled={busy || picked.size === 0} />
      </form>
    </Dialog>
  );
}
