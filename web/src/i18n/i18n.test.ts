import { describe, expect, it } from 'vitest';
import { errorText, resolveLang, translator } from './index';

describe('i18n', () => {
  it('follows the browser language unless set', () => {
    expect(resolveLang('auto', ['ko-KR', 'en-US'])).toBe('ko');
    expect(resolveLang('auto', ['fr-FR', 'en-GB'])).toBe('en');
    expect(resolveLang('auto', ['fr-FR'])).toBe('en');
    expect(resolveLang('en', ['ko-KR'])).toBe('en');
  });

  it('fills parameters and names unknown error codes', () => {
    const t = translator('ko');
    expect(t('friends.count', { n: 3 })).toBe('친구 3');
    expect(errorText(t, 'handle_taken')).toBe('이미 사용 중인 아이디입니다.');
    expect(errorText(translator('en'), 'weird')).toBe('Something went wrong (weird).');
  });
});
