import { useState } from 'preact/hooks';
import { errorText } from '../i18n';
import { errorCode } from '../protocol/errors';
import { useApp } from './context';
import { FormError } from './formParts';
import { Logo } from './Logo';

export function AuthScreen() {
  const { store, t } = useApp();
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [handle, setHandle] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(store.signedOutReason === 'revoked' ? t('auth.revoked') : null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const h = handle.trim().toLowerCase();
      if (mode === 'login') await store.login(h, password);
      else await store.register(h, password, name.trim());
    } catch (err) {
      setError(errorText(t, errorCode(err)));
      setBusy(false);
    }
  };

  const signup = mode === 'signup';
  return (
    <main class="auth">
      <div class="auth-card">
        <Logo />
        <h1 class="auth-title">{t('appName')}</h1>
        <p class="auth-tagline">{t('auth.tagline')}</p>
        <form onSubmit={submit} class="auth-form" aria-label={signup ? t('auth.signup') : t('auth.login')}>
          <label class="field">
            <span>{t('auth.handle')}</span>
            <input
              name="handle"
              value={handle}
              onInput={(e) => setHandle(e.currentTarget.value)}
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
              minLength={3}
              maxLength={32}
              aria-describedby={signup ? 'handle-hint' : undefined}
              autofocus
            />
            {signup && (
              <small id="handle-hint" class="hint">
                {t('auth.handleHint')}
              </small>
            )}
          </label>
          {signup && (
            <label class="field">
              <span>{t('auth.displayName')}</span>
              <input name="display_name" value={name} onInput={(e) => setName(e.currentTarget.value)} autocomplete="nickname" maxLength={64} />
            </label>
          )}
          <label class="field">
            <span>{t('auth.password')}</span>
            <input
              name="password"
              type="password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              autocomplete={signup ? 'new-password' : 'current-password'}
              required
              minLength={signup ? 8 : 1}
              aria-describedby={signup ? 'password-hint' : undefined}
            />
            {signup && (
              <small id="password-hint" class="hint">
                {t('auth.passwordHint')}
              </small>
            )}
          </label>
          <FormError error={error} />
          <button class="btn primary block" type="submit" disabled={busy}>
            {signup ? t('auth.signup') : t('auth.login')}
          </button>
        </form>
        <p class="auth-switch">
          {signup ? t('auth.haveAccount') : t('auth.noAccount')}{' '}
          <button
            class="link"
            type="button"
            onClick={() => {
              setMode(signup ? 'login' : 'signup');
              setError(null);
            }}
          >
            {signup ? t('auth.login') : t('auth.signup')}
          </button>
        </p>
      </div>
    </main>
  );
}
