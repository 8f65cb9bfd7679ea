import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import {
  FORM_FIELD_TYPES,
  type FormField,
  type FormFieldType,
  type HistoryVisibility,
  type JoinPolicy,
  type Room,
  type RoomSettings,
} from '../protocol/types';
import { useApp } from './context';
import { Dialog } from './Dialog';
import { FormButtons, FormError } from './formParts';
import { IconClose } from './icons';
import { MAX_FORM_FIELDS, nextFieldKey, parseTags } from './openForm';
import { fieldTypeLabel, policyLabel, type ProfileDraft, profileArg, profileDraftOk, RoomCover, RoomProfilePicker } from './openView';

const SLOW_MODES = [0, 10, 30, 60, 300, 600, 3600];
const TTL_DAYS = [1, 3, 7, 14, 30];

interface Draft {
  title: string;
  description: string;
  tags: string;
  cover: string;
  capacity: string;
  listed: boolean;
  join_policy: JoinPolicy;
  passcode: string;
  history: HistoryVisibility;
  slow_mode_seconds: number;
  report_threshold: string;
  form: FormField[];
  friend_of_staff: boolean;
  min_account_age_days: string;
  community_cap: string;
  ttl_days: number;
}

function draftOf(room: Room | null): Draft {
  return {
    title: room?.title ?? '',
    description: room?.description ?? '',
    tags: room?.tags.join(', ') ?? '',
    cover: room?.cover ?? '',
    capacity: room ? String(room.capacity) : '',
    listed: room?.listed ?? true,
    join_policy: room?.join_policy ?? 'open',
    passcode: '',
    history: room?.history ?? 'from_join',
    slow_mode_seconds: room?.slow_mode_seconds ?? 0,
    report_threshold: String(room?.report_threshold ?? 3),
    form: room?.form ?? [],
    friend_of_staff: room?.conditions.friend_of_staff ?? false,
    min_account_age_days: String(room?.conditions.min_account_age_days ?? 0),
    community_cap: room?.community_cap != null ? String(room.community_cap) : '',
    ttl_days: room ? Math.max(1, Math.round(room.application_ttl_seconds / 86400)) : 7,
  };
}

function settingsOf(d: Draft, editing: Room | null): RoomSettings {
  const s: RoomSettings = {
    title: d.title.trim(),
    description: d.description.trim(),
    tags: parseTags(d.tags),
    cover: d.cover.trim(),
    listed: d.listed,
    join_policy: d.join_policy,
    history: d.history,
    slow_mode_seconds: d.slow_mode_seconds,
    report_threshold: Number(d.report_threshold) || 3,
  };
  const cap = Number(d.capacity);
  if (d.capacity.trim() && cap > 0) s.capacity = cap;
  if (d.join_policy === 'passcode' && (d.passcode || !editing || editing.join_policy !== 'passcode')) s.passcode = d.passcode;
  if (d.join_policy === 'approval') {
    s.form = d.form.map((f) => ({ ...f, label: f.label.trim() || f.label }));
    s.conditions = { friend_of_staff: d.friend_of_staff, min_account_age_days: Number(d.min_account_age_days) || 0 };
    s.community_cap = d.community_cap.trim() ? Number(d.community_cap) : null;
    s.application_ttl_seconds = d.ttl_days * 86400;
  }
  return s;
}

/** The settings of a room, for creating one (with my room profile) or editing one. */
function RoomSettingsForm(props: {
  room: Room | null;
  submitLabel: string;
  onSubmit: (s: RoomSettings, profile: ProfileDraft) => Promise<void>;
  onCancel: () => void;
}) {
  const { store, t } = useApp();
  const editing = props.room;
  const [d, setD] = useState<Draft>(() => draftOf(editing));
  const [profile, setProfile] = useState<ProfileDraft>({ choice: 'nickname', nickname: '', avatar: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Draft>) => setD({ ...d, ...patch });

  const setField = (i: number, patch: Partial<FormField>) => set({ form: d.form.map((f, j) => (j === i ? { ...f, ...patch } : f)) });
  const addField = () => {
    const type: FormFieldType = d.form.some((f) => f.type === 'real_name') ? 'text' : 'real_name';
    set({ form: [...d.form, { key: nextFieldKey(d.form, type), label: fieldTypeLabel(t, type), type, required: type === 'real_name' }] });
  };
  const changeType = (i: number, type: FormFieldType) => {
    const f = d.form[i] as FormField;
    const others = d.form.filter((_, j) => j !== i);
    const wasDefault = !f.label || f.label === fieldTypeLabel(t, f.type);
    // Keys of fields that already exist stay (answers are stored by key); new ones follow the type.
    const key = editing?.form.some((x) => x.key === f.key) ? f.key : nextFieldKey(others, type);
    setField(i, { type, key, label: wasDefault ? fieldTypeLabel(t, type) : f.label });
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!d.title.trim()) {
      setError(t('open.create.needTitle'));
      return;
    }
    if (!editing && !profileDraftOk(profile, !!store.savedNickname)) {
      setError(profile.choice === 'saved' ? t('open.profile.noSaved') : t('open.profile.badNickname'));
      return;
    }
    if (d.join_policy === 'passcode' && (!editing || editing.join_policy !== 'passcode' || d.passcode) && (d.passcode.length < 4 || d.passcode.length > 32)) {
      setError(t('open.create.badPasscode'));
      return;
    }
    if (d.join_policy === 'approval' && d.form.some((f) => !f.label.trim())) {
      setError(t('open.create.needLabel'));
      return;
    }
    setBusy(true);
    try {
      await props.onSubmit(settingsOf(d, editing), profile);
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };

  return (
    <form class="dialog-body room-form" onSubmit={submit} noValidate>
      <div class="room-form-head">
        <RoomCover room={{ ...(editing ?? ({} as Room)), cover: d.cover, title: d.title }} title={d.title || '#'} size={64} />
        <label class="field grow">
          <span>{t('open.create.title')}</span>
          <input name="room-title" value={d.title} maxLength={50} onInput={(e) => set({ title: e.currentTarget.value })} required autofocus />
        </label>
      </div>
      <label class="field">
        <span>{t('open.create.description')}</span>
        <textarea name="room-description" rows={3} value={d.description} onInput={(e) => set({ description: e.currentTarget.value })} />
      </label>
      <label class="field">
        <span>{t('open.create.tags')}</span>
        <input name="room-tags" value={d.tags} placeholder={t('open.create.tagsHint')} onInput={(e) => set({ tags: e.currentTarget.value })} />
      </label>
      <label class="field">
        <span>{t('open.create.cover')}</span>
        <input name="room-cover" type="url" placeholder="https://" value={d.cover} onInput={(e) => set({ cover: e.currentTarget.value })} />
      </label>
      <div class="field-row">
        <label class="field">
          <span>{t('open.create.capacity')}</span>
          <input name="room-capacity" type="number" min={2} inputMode="numeric" placeholder={t('open.create.capacityMax')} value={d.capacity} onInput={(e) => set({ capacity: e.currentTarget.value })} />
        </label>
        <label class="field">
          <span>{t('open.create.reportThreshold')}</span>
          <input name="room-report-threshold" type="number" min={1} max={100} inputMode="numeric" value={d.report_threshold} onInput={(e) => set({ report_threshold: e.currentTarget.value })} />
        </label>
      </div>

      <Segmented
        label={t('open.create.visibility')}
        name="listed"
        value={d.listed ? 'listed' : 'link'}
        options={[
          ['listed', t('open.create.listed')],
          ['link', t('open.create.linkOnly')],
        ]}
        onChange={(v) => set({ listed: v === 'listed' })}
      />
      <Segmented
        label={t('open.create.policy')}
        name="policy"
        value={d.join_policy}
        options={(['open', 'passcode', 'approval'] as JoinPolicy[]).map((p) => [p, policyLabel(t, p)])}
        onChange={(v) => set({ join_policy: v as JoinPolicy })}
      />
      {d.join_policy === 'passcode' && (
        <label class="field">
          <span>{t('open.passcode')}</span>
          <input
            name="room-passcode"
            value={d.passcode}
            minLength={4}
            maxLength={32}
            placeholder={editing?.join_policy === 'passcode' ? t('open.create.passcodeKeep') : t('open.create.passcodeHint')}
            onInput={(e) => set({ passcode: e.currentTarget.value })}
          />
        </label>
      )}
      {d.join_policy === 'approval' && (
        <fieldset class="form-builder">
          <legend>{t('open.create.form')}</legend>
          {d.form.length === 0 && <p class="muted small">{t('open.create.formEmpty')}</p>}
          {d.form.map((f, i) => (
            <div class="form-field-row" key={i} data-index={i}>
              <select name={`field-type-${i}`} aria-label={t('open.create.fieldType')} value={f.type} onChange={(e) => changeType(i, e.currentTarget.value as FormFieldType)}>
                {FORM_FIELD_TYPES.map((ty) => (
                  <option key={ty} value={ty}>
                    {fieldTypeLabel(t, ty)}
                  </option>
                ))}
              </select>
              <input name={`field-label-${i}`} aria-label={t('open.create.fieldLabel')} value={f.label} maxLength={60} onInput={(e) => setField(i, { label: e.currentTarget.value })} />
              <label class="inline-check">
                <input type="checkbox" name={`field-required-${i}`} checked={f.required} onChange={(e) => setField(i, { required: e.currentTarget.checked })} />
                {t('open.create.required')}
              </label>
              <button type="button" class="icon-btn small" aria-label={t('open.create.removeField')} title={t('open.create.removeField')} onClick={() => set({ form: d.form.filter((_, j) => j !== i) })}>
                <IconClose />
              </button>
            </div>
          ))}
          <button type="button" class="btn small add-field" onClick={addField} disabled={d.form.length >= MAX_FORM_FIELDS}>
            {t('open.create.addField')}
          </button>
          <h4 class="sub-title">{t('open.create.conditions')}</h4>
          <label class="inline-check">
            <input type="checkbox" name="cond-friend" checked={d.friend_of_staff} onChange={(e) => set({ friend_of_staff: e.currentTarget.checked })} />
            {t('open.cond.friendOfStaff')}
          </label>
          <div class="field-row">
            <label class="field">
              <span>{t('open.create.minAge')}</span>
              <input name="cond-min-age" type="number" min={0} inputMode="numeric" value={d.min_account_age_days} onInput={(e) => set({ min_account_age_days: e.currentTarget.value })} />
            </label>
            <label class="field">
              <span>{t('open.create.communityCap')}</span>
              <input name="community-cap" type="number" min={1} max={1000} inputMode="numeric" placeholder={t('open.create.capDefault')} value={d.community_cap} onInput={(e) => set({ community_cap: e.currentTarget.value })} />
            </label>
          </div>
          <label class="field">
            <span>{t('open.create.ttl')}</span>
            <select name="application-ttl" value={String(d.ttl_days)} onChange={(e) => set({ ttl_days: Number(e.currentTarget.value) })}>
              {TTL_DAYS.map((n) => (
                <option key={n} value={String(n)}>
                  {t('open.create.days', { n })}
                </option>
              ))}
            </select>
          </label>
        </fieldset>
      )}
      <Segmented
        label={t('open.create.history')}
        name="history"
        value={d.history}
        options={[
          ['from_join', t('open.create.fromJoin')],
          ['all', t('open.create.historyAll')],
        ]}
        onChange={(v) => set({ history: v as HistoryVisibility })}
      />
      <label class="field">
        <span>{t('open.create.slowMode')}</span>
        <select name="slow-mode" value={String(d.slow_mode_seconds)} onChange={(e) => set({ slow_mode_seconds: Number(e.currentTarget.value) })}>
          {SLOW_MODES.map((s) => (
            <option key={s} value={String(s)}>
              {s === 0 ? t('open.create.slowOff') : s < 60 ? t('open.create.seconds', { n: s }) : s < 3600 ? t('open.create.minutes', { n: s / 60 }) : t('open.create.hours', { n: s / 3600 })}
            </option>
          ))}
        </select>
      </label>
      {!editing && <RoomProfilePicker value={profile} onChange={setProfile} />}
      <FormError error={error} />
      <FormButtons submitLabel={props.submitLabel} onCancel={props.onCancel} disabled={busy} submitClass="room-submit" />
    </form>
  );
}

function Segmented(props: { label: string; name: string; value: string; options: [string, string][]; onChange: (v: string) => void }) {
  return (
    <div class="field">
      <span id={`seg-${props.name}`}>{props.label}</span>
      <div class="segmented" role="radiogroup" aria-labelledby={`seg-${props.name}`} data-name={props.name}>
        {props.options.map(([v, label]) => (
          <button type="button" key={v} role="radio" data-value={v} aria-checked={props.value === v} class={props.value === v ? 'on' : ''} onClick={() => props.onChange(v)}>
            {label}
          </button>
        ))}
      </div>
    </div>
  );
}

export function CreateRoomDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (chatId: number) => void }) {
  const { store, t } = useApp();
  return (
    <Dialog title={t('open.create')} onClose={onClose} wide>
      <RoomSettingsForm
        room={null}
        submitLabel={t('group.create')}
        onCancel={onClose}
        onSubmit={async (s, p) => {
          const id = await store.createRoom(s, profileArg(p));
          onCreated(id);
        }}
      />
    </Dialog>
  );
}

/** Staff with `edit`: the room's settings, changed with open.update. */
export function EditRoomForm({ chatId, room, onDone }: { chatId: number; room: Room; onDone: () => void }) {
  const { store, t, toast } = useApp();
  return (
    <RoomSettingsForm
      room={room}
      submitLabel={t('profile.save')}
      onCancel={onDone}
      onSubmit={async (s) => {
        await store.updateRoom(chatId, s);
        toast(t('open.saved'));
        onDone();
      }}
    />
  );
}
