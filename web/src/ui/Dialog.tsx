import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useApp } from './context';
import { IconClose } from './icons';

/**
 * A modal dialog: focus moves into it, Tab stays inside, Esc closes it and focus returns to
 * where it was.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean; bare?: boolean }) {
  const { t } = useApp();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const el = ref.current;
    const first = el?.querySelector<HTMLElement>('[autofocus], input, textarea, button:not(.dialog-x), [href]');
    (first ?? el)?.focus();
    return () => before?.focus?.();
  }, []);
  // Esc closes the top-most dialog wherever focus is (it may have fallen back to <body>).
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      const backdrops = document.querySelectorAll('.backdrop');
      if (backdrops[backdrops.length - 1] !== ref.current?.parentElement) return;
      e.stopImmediatePropagation();
      onClose.current();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>('button, input, textarea, select, [href], [tabindex="0"]')].filter(
      (x) => !x.hasAttribute('disabled'),
    );
    const first = items[0];
    const last = items[items.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div
        class={`dialog${props.wide ? ' wide' : ''}${props.bare ? ' bare' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-label={props.title}
        ref={ref}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        {!props.bare && (
          <header class="dialog-head">
            <h2>{props.title}</h2>
            <button class="icon-btn dialog-x" onClick={props.onClose} aria-label={t('common.close')}>
              <IconClose />
            </button>
          </header>
        )}
        {props.children}
      </div>
    </div>
  );
}

export function Confirm(props: { text: string; okLabel?: string; danger?: boolean; onOk: () => void; onCancel: () => void }) {
  const { t } = useApp();
  return (
    <Dialog title={props.text} onClose={props.onCancel}>
      <p class="confirm-text">{props.text}</p>
      <div class="dialog-actions">
        <button class="btn" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
        <button class={`btn ${props.danger ? 'danger' : 'primary'}`} onClick={props.onOk} autofocus>
          {props.okLabel ?? t('common.ok')}
        </button>
      </div>
    </Dialog>
  );
}
