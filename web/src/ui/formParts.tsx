/** Pieces every form repeats: its error message, and a dialog form's Cancel and submit buttons. */
import { useApp } from './context';

/** A form's error message, announced when it appears; nothing while there is none. */
export function FormError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p class="form-error" role="alert">
      {error}
    </p>
  );
}

/**
 * A dialog form's buttons: Cancel, then submit (primary, or danger), which may carry a class
 * of its own (`submitClass`).
 */
export function FormButtons(props: { submitLabel: string; onCancel: () => void; disabled?: boolean; danger?: boolean; submitClass?: string }) {
  const { t } = useApp();
  const submitClass = `btn ${props.danger ? 'danger' : 'primary'}${props.submitClass ? ` ${props.submitClass}` : ''}`;
  return (
    <div class="dialog-actions">
      <button type="button" class="btn" onClick={props.onCancel}>
        {t('common.cancel')}
      </button>
      <button type="submit" class={submitClass} disabled={props.disabled}>
        {props.submitLabel}
      </button>
    </div>
  );
}
