/** Shared pieces of the open chat screens: covers, badges, room cards, room profiles, answers. */
import { useEffect, useState } from 'preact/hooks';
import { errorText, type Translate } from '../i18n';
import { errorCode } from '../protocol/errors';
import type { FormField, JoinPolicy, Room, RoomProfileArg } from '../protocol/types';
import { Avatar } from './Avatar';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { FormButtons, FormError } from './formParts';
import { IconLock, IconShield, IconUsers } from './icons';
import { type AnswerProblem, nicknameOk } from './openForm';

const COVER_COLORS = ['#8EC5F2', '#F7C98B', '#A8D8A8', '#B9A8F2', '#F2A8D8', '#9ED9D3', '#F7A8A8', '#D9C59E'];

function safeUrl(url: string | undefined): string | null {
  return url && /^(https?:\/\/|data:image\/)/i.test(url) ? url : null;
}

/** A room's cover picture, or its first letter on a colour, in a rounded square. */
export function RoomCover({ room, title, size = 56 }: { room: Room | null | undefined; title?: string; size?: number }) {
  const [broken, setBroken] = useState(false);
  const name = title ?? room?.title ?? '';
  const url = !broken ? safeUrl(room?.cover) : null;
  const style = { width: `${size}px`, height: `${size}px`, fontSize: `${Math.round(size * 0.4)}px` };
  if (url) return <img class="room-cover" src={url} alt={name} style={style} onError={() => setBroken(true)} loading="lazy" />;
  const color = COVER_COLORS[(room?.chat_id ?? name.length) % COVER_COLORS.length];
  return (
    <span class="room-cover room-cover-initial" style={{ ...style, background: color }} role="img" aria-label={name}>
      {Array.from(name.trim())[0] ?? '#'}
    </span>
  );
}

export function policyLabel(t: Translate, p: JoinPolicy): string {
  return p === 'approval' ? t('open.policy.approval') : p === 'passcode' ? t('open.policy.passcode') : t('open.policy.open');
}

export function PolicyBadge({ policy }: { policy: JoinPolicy }) {
  const { t } = useApp();
  return (
    <span class={`policy-badge ${policy}`}>
      {policy === 'passcode' && <IconLock />}
      {policy === 'approval' && <IconShield />}
      {policyLabel(t, policy)}
    </span>
  );
}

export function MemberCount({ room }: { room: Room }) {
  const { t } = useApp();
  return (
    <span class="room-count" aria-label={t('open.membersOf', { n: room.member_count, cap: room.capacity })}>
      <IconUsers />
      {room.member_count}/{room.capacity}
    </span>
  );
}

export function Tags({ tags }: { tags: string[] }) {
  if (!tags.length) return null;
  return (
    <span class="tags">
      {tags.map((tag) => (
        <span key={tag} class="tag">
          #{tag}
        </span>
      ))}
    </span>
  );
}

/** One room in search results and the popular list. */
export function RoomCard({ room, onOpen }: { room: Room; onOpen: () => void }) {
  return (
    <button class="room-card" onClick={onOpen} data-code={room.code} data-chat-id={room.chat_id}>
      <RoomCover room={room} size={64} />
      <span class="room-card-main">
        <span class="room-card-title">
          <span class="title-text">{room.title}</span>
        </span>
        {room.description && <span class="room-card-desc">{room.description}</span>}
        <Tags tags={room.tags} />
        <span class="room-card-meta">
          <MemberCount room={room} />
          <PolicyBadge policy={room.join_policy} />
        </span>
      </span>
    </button>
  );
}

export type ProfileChoice = 'nickname' | 'saved' | 'real';

export interface ProfileDraft {
  choice: ProfileChoice;
  nickname: string;
  avatar: string;
}

export function profileArg(d: ProfileDraft): RoomProfileArg {
  if (d.choice === 'saved') return { kind: 'saved' };
  if (d.choice === 'real') return { kind: 'real' };
  const a: RoomProfileArg = { kind: 'nickname', nickname: d.nickname.trim() };
  if (d.avatar.trim()) a.avatar = d.avatar.trim();
  return a;
}

export function profileDraftOk(d: ProfileDraft, hasSaved: boolean): boolean {
  if (d.choice === 'nickname') return nicknameOk(d.nickname);
  if (d.choice === 'saved') return hasSaved;
  return true;
}

/** Who I am in the room: a new nickname (with a picture), my saved nickname profile, or my real profile. */
export function RoomProfilePicker({ value, onChange }: { value: ProfileDraft; onChange: (d: ProfileDraft) => void }) {
  const { store, t } = useApp();
  const saved = store.savedNickname;
  useEffect(() => {
    if (saved === undefined && store.net === 'online') void store.loadSavedNickname().catch(() => undefined);
  }, [saved, store.net]);
  const choices: ProfileChoice[] = ['nickname', 'saved', 'real'];
  const me = store.me;
  return (
    <fieldset class="room-profile">
      <legend>{t('open.profile.title')}</legend>
      <div class="segmented" role="radiogroup" aria-label={t('open.profile.title')}>
        {choices.map((c) => (
          <button
            type="button"
            key={c}
            role="radio"
            data-choice={c}
            aria-checked={value.choice === c}
            class={value.choice === c ? 'on' : ''}
            onClick={() => onChange({ ...value, choice: c })}
          >
            {t(`open.profile.${c}`)}
          </button>
        ))}
      </div>
      {value.choice === 'nickname' && (
        <div class="profile-fields">
          <Avatar profile={{ user_id: 0, handle: '', display_name: value.nickname, status_message: '', avatar: value.avatar }} size={48} />
          <div class="profile-inputs">
            <label class="field">
              <span>{t('open.profile.nicknameField')}</span>
              <input name="nickname" value={value.nickname} maxLength={20} onInput={(e) => onChange({ ...value, nickname: e.currentTarget.value })} />
            </label>
            <label class="field">
              <span>{t('profile.avatar')}</span>
              <input name="nickname-avatar" type="url" placeholder="https://" value={value.avatar} onInput={(e) => onChange({ ...value, avatar: e.currentTarget.value })} />
            </label>
          </div>
        </div>
      )}
      {value.choice === 'saved' && (
        <div class="profile-fields">
          {saved ? (
            <>
              <Avatar profile={{ user_id: 0, handle: '', display_name: saved.nickname, status_message: '', avatar: saved.avatar }} size={48} />
              <span class="row-title">{saved.nickname}</span>
            </>
          ) : (
            <p class="muted small">{saved === null ? t('open.profile.noSaved') : t('room.loading')}</p>
          )}
        </div>
      )}
      {value.choice === 'real' && (
        <div class="profile-fields">
          <Avatar profile={me ?? undefined} size={48} />
          <div class="row-main">
            <span class="row-title">{me?.display_name || me?.handle}</span>
            <span class="muted small">{t('open.profile.realWarning')}</span>
          </div>
        </div>
      )}
    </fieldset>
  );
}

export function fieldTypeLabel(t: Translate, type: FormField['type']): string {
  return t(`open.field.${type}`);
}

function problemText(t: Translate, p: AnswerProblem): string {
  return p === 'required' ? t('open.apply.required') : p === 'phone' ? t('open.apply.badPhone') : t('open.apply.tooLong');
}

/** The application form of a community, with its problems shown next to each field. */
export function AnswersForm(props: {
  form: FormField[];
  answers: Record<string, string>;
  problems: Record<string, AnswerProblem>;
  onChange: (a: Record<string, string>) => void;
}) {
  const { t } = useApp();
  return (
    <fieldset class="answers">
      <legend>{t('open.apply.form')}</legend>
      {props.form.map((f) => {
        const problem = props.problems[f.key];
        const id = `answer-${f.key}`;
        const set = (v: string) => props.onChange({ ...props.answers, [f.key]: v });
        return (
          <label key={f.key} class={`field${problem ? ' invalid' : ''}`}>
            <span>
              {f.label || fieldTypeLabel(t, f.type)}
              {f.required && <span class="required" aria-label={t('open.apply.requiredMark')}> *</span>}
            </span>
            {f.type === 'text' ? (
              <textarea
                name={id}
                rows={3}
                value={props.answers[f.key] ?? ''}
                aria-invalid={problem ? 'true' : undefined}
                onInput={(e) => set(e.currentTarget.value)}
              />
            ) : (
              <input
                name={id}
                type={f.type === 'phone' ? 'tel' : 'text'}
                autocomplete={f.type === 'real_name' ? 'name' : f.type === 'phone' ? 'tel' : f.type === 'company' ? 'organization' : f.type === 'job_title' ? 'organization-title' : 'off'}
                value={props.answers[f.key] ?? ''}
                aria-invalid={problem ? 'true' : undefined}
                onInput={(e) => set(e.currentTarget.value)}
              />
            )}
            {problem && (
              <span class="field-error" role="alert">
                {problemText(t, problem)}
              </span>
            )}
          </label>
        );
      })}
    </fieldset>
  );
}

/** Edits the saved nickname profile (open.nickname.get / open.nickname.set). */
export function NicknameDialog({ onClose }: { onClose: () => void }) {
  const { store, t, toast } = useApp();
  const saved = store.savedNickname;
  const [nickname, setNickname] = useState(saved?.nickname ?? '');
  const [avatar, setAvatar] = useState(saved?.avatar ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (saved !== undefined) return;
    void store
      .loadSavedNickname()
      .then((n) => {
        if (n) {
          setNickname(n.nickname);
          setAvatar(n.avatar);
        }
      })
      .catch(() => undefined);
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!nicknameOk(nickname)) {
      setError(t('open.profile.badNickname'));
      return;
    }
    setBusy(true);
    try {
      await store.saveNickname(nickname.trim(), avatar.trim());
      toast(t('open.profile.savedToast'));
      onClose();
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('open.profile.savedTitle')} onClose={onClose}>
      <form class="dialog-body" onSubmit={submit}>
        <p class="muted small">{t('open.profile.savedHint')}</p>
        <div class="center">
          <Avatar profile={{ user_id: 0, handle: '', display_name: nickname, status_message: '', avatar }} size={72} />
        </div>
        <label class="field">
          <span>{t('open.profile.nicknameField')}</span>
          <input name="saved-nickname" value={nickname} maxLength={20} onInput={(e) => setNickname(e.currentTarget.value)} required autofocus />
        </label>
        <label class="field">
          <span>{t('profile.avatar')}</span>
          <input name="saved-avatar" type="url" placeholder="https://" value={avatar} onInput={(e) => setAvatar(e.currentTarget.value)} />
        </label>
        <FormError error={error} />
        <FormButtons submitLabel={t('profile.save')} onCancel={onClose} disabled={busy} />
      </form>
    </Dialog>
  );
}

/** Asks for a short reason (reject, ban, kick, report). */
export function ReasonDialog(props: {
  title: string;
  okLabel: string;
  danger?: boolean;
  required?: boolean;
  presets?: string[];
  onOk: (reason: string) => Promise<void>;
  onCancel: () => void;
}) {
  const { t } = useApp();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await props.onOk(reason.trim());
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onCancel}>
      <form class="dialog-body" onSubmit={submit}>
        {props.presets && (
          <div class="chips" role="group" aria-label={t('open.reason')}>
            {props.presets.map((p) => (
              <button type="button" key={p} class={`chip${reason === p ? ' on' : ''}`} onClick={() => setReason(p)}>
                {p}
              </button>
            ))}
          </div>
        )}
        <label class="field">
          <span>{props.required ? t('open.reason') : t('open.reasonOptional')}</span>
          <input name="reason" value={reason} maxLength={200} onInput={(e) => setReason(e.currentTarget.value)} required={props.required} autofocus />
        </label>
        <FormError error={error} />
        <FormButtons submitLabel={props.okLabel} onCancel={props.onCancel} disabled={busy || (props.required && !reason.trim())} danger={props.danger} />
      </form>
    </Dialog>
  );
}
