import { useEffect, useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode, ProtocolError } from '../protocol/errors';
import type { Application, OpResult } from '../protocol/types';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { formatDateTime } from './format';
import { FormButtons, FormError } from './formParts';
import { type AnswerProblem, checkAnswers, cleanAnswers } from './openForm';
import {
  AnswersForm,
  MemberCount,
  PolicyBadge,
  type ProfileDraft,
  profileArg,
  profileDraftOk,
  RoomCover,
  RoomProfilePicker,
  Tags,
} from './openView';

type Preview = OpResult<'open.preview'>;

/** A room before joining: what it is, and the way in (profile, passcode, application form). */
export function JoinDialog({ code, onClose }: { code: string; onClose: () => void }) {
  const { store, t, lang, navigate } = useApp();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [profile, setProfile] = useState<ProfileDraft>({ choice: 'nickname', nickname: '', avatar: '' });
  const [passcode, setPasscode] = useState('');
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, AnswerProblem>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [reapply, setReapply] = useState(false);
  const online = store.net === 'online';

  useEffect(() => {
    if (!online || preview) return;
    store
      .previewRoom({ code })
      .then(setPreview)
      .catch((e: unknown) => setLoadError(errorText(t, errorCode(e))));
  }, [online, code]);

  const goToChat = (chatId: number) => {
    onClose();
    navigate({ tab: 'chats', chat: chatId, code: null });
  };

  if (!preview) {
    return (
      <Dialog title={t('open.preview')} onClose={onClose}>
        <div class="dialog-body">
          {loadError ? (
            <p class="form-error" role="alert">
              {loadError}
            </p>
          ) : (
            <div class="center">
              <span class="spinner" aria-label={t('room.loading')} />
            </div>
          )}
        </div>
      </Dialog>
    );
  }

  const { room } = preview;
  // The store keeps my applications current from events (approved, rejected …).
  // The preview names a pending application; a decided one may only be known from events or
  // "my applications", so fall back to the newest of mine for this room.
  const app: Application | null = preview.application
    ? (store.myApplications.get(preview.application.application_id) ?? preview.application)
    : newestApplication([...store.myApplications.values()], room.chat_id);
  const member = preview.member || store.chats.has(room.chat_id);
  const approval = room.join_policy === 'approval';
  const hasSaved = !!store.savedNickname;
  const showForm = !member && !preview.banned && (!app || app.state !== 'pending') && (!app || app.state !== 'approved' || reapply);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!profileDraftOk(profile, hasSaved)) {
      setError(profile.choice === 'saved' ? t('open.profile.noSaved') : t('open.profile.badNickname'));
      return;
    }
    if (room.join_policy === 'passcode' && !passcode) {
      setError(t('open.passcodeNeeded'));
      return;
    }
    if (approval) {
      const p = checkAnswers(room.form, answers);
      setProblems(p);
      if (Object.keys(p).length) {
        setError(t('open.apply.fix'));
        return;
      }
    }
    setBusy(true);
    try {
      const extra: { passcode?: string; answers?: Record<string, string> } = {};
      if (room.join_policy === 'passcode') extra.passcode = passcode;
      if (approval) extra.answers = cleanAnswers(room.form, answers);
      const res = await store.joinRoom({ code }, profileArg(profile), extra, room);
      if (res.chat_id !== undefined) goToChat(res.chat_id);
      else if (res.application) {
        setPreview({ ...preview, application: res.application });
        setReapply(false);
      }
    } catch (err) {
      if (err instanceof ProtocolError && err.code === 'conditions_not_met') setError(`${t('error.conditions_not_met')} ${err.message}`);
      else setError(errorText(t, errorCode(err)));
      if (err instanceof ProtocolError && err.code === 'banned') setPreview({ ...preview, banned: true });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={room.title} onClose={onClose} wide>
      <div class="dialog-body join-dialog" data-chat-id={room.chat_id}>
        <div class="room-hero">
          <RoomCover room={room} size={72} />
          <div class="room-hero-main">
            <h3 class="room-hero-title">{room.title}</h3>
            <span class="room-card-meta">
              <MemberCount room={room} />
              <PolicyBadge policy={room.join_policy} />
            </span>
            <Tags tags={room.tags} />
          </div>
        </div>
        {room.description && <p class="room-desc">{room.description}</p>}
        {room.notice?.text && (
          <p class="room-notice-preview">
            <strong>{t('open.notice')}</strong> {room.notice.text}
          </p>
        )}
        {approval && (room.conditions.friend_of_staff || room.conditions.min_account_age_days > 0) && (
          <ul class="conditions">
            {room.conditions.friend_of_staff && <li>{t('open.cond.friendOfStaff')}</li>}
            {room.conditions.min_account_age_days > 0 && <li>{t('open.cond.minAge', { n: room.conditions.min_account_age_days })}</li>}
          </ul>
        )}

        {member && (
          <div class="join-state">
            <p>{t('open.alreadyMember')}</p>
            <button class="btn primary" onClick={() => goToChat(room.chat_id)} autofocus>
              {t('open.enter')}
            </button>
          </div>
        )}
        {!member && preview.banned && (
          <p class="form-error" role="alert">
            {t('error.banned')}
          </p>
        )}
        {!member && app?.state === 'pending' && (
          <div class="join-state pending" data-state="pending" role="status">
            <p class="state-title">{t('open.app.pendingLong')}</p>
            <p class="muted small">
              {t('open.app.sentAt', { time: formatDateTime(app.created_at, lang) })} · {t('open.app.expiresAt', { time: formatDateTime(app.expires_at, lang) })}
            </p>
            <button
              class="btn"
              onClick={async () => {
                try {
                  await store.cancelApplication(app.application_id);
                  setPreview({ ...preview, application: store.myApplications.get(app.application_id) ?? null });
                } catch (err) {
                  setError(errorText(t, errorCode(err)));
                }
              }}
            >
              {t('open.apps.cancel')}
            </button>
          </div>
        )}
        {!member && app && app.state !== 'pending' && (
          <div class={`join-state ${app.state}`} data-state={app.state} role="status">
            <p class="state-title">{t(`open.app.${app.state}Long`)}</p>
            {app.reason && <p class="muted small">{t('open.app.reason', { reason: app.reason })}</p>}
            {app.state === 'approved' && (
              <button class="btn primary" onClick={() => goToChat(room.chat_id)}>
                {t('open.enter')}
              </button>
            )}
          </div>
        )}

        {showForm && (
          <form class="join-form" onSubmit={submit} noValidate>
            <RoomProfilePicker value={profile} onChange={setProfile} />
            {room.join_policy === 'passcode' && (
              <label class="field">
                <span>{t('open.passcode')}</span>
                <input name="passcode" type="password" value={passcode} maxLength={32} onInput={(e) => setPasscode(e.currentTarget.value)} autocomplete="off" />
              </label>
            )}
            {approval && room.form.length > 0 && (
              <AnswersForm
                form={room.form}
                answers={answers}
                problems={problems}
                onChange={(a) => {
                  setAnswers(a);
                  // Once problems were shown, they follow the answers as they are fixed.
                  if (Object.keys(problems).length) {
                    const p = checkAnswers(room.form, a);
                    setProblems(p);
                    if (!Object.keys(p).length) setError(null);
                  }
                }}
              />
            )}
            {approval && <p class="muted small">{t('open.apply.hint')}</p>}
            <FormError error={error} />
            <FormButtons submitLabel={approval ? t('open.apply') : t('open.join')} onCancel={onClose} disabled={busy || !online} submitClass="join-submit" />
          </form>
        )}
        {!showForm && <FormError error={error} />}
      </div>
    </Dialog>
  );
}

function newestApplication(apps: Application[], chatId: number): Application | null {
  let best: Application | null = null;
  for (const a of apps) if (a.chat_id === chatId && (!best || a.created_at > best.created_at)) best = a;
  return best;
}
