import { describe, expect, it } from 'vitest';
import type { FormField } from '../protocol/types';
import { checkAnswers, cleanAnswers, codeFromInput, nextFieldKey, nicknameOk, parseTags } from './openForm';

const form: FormField[] = [
  { key: 'real_name', label: '실명', type: 'real_name', required: true },
  { key: 'phone', label: '전화번호', type: 'phone', required: false },
  { key: 'q_1', label: '자기소개', type: 'text', required: true },
];

describe('open chat forms', () => {
  it('reads a code from a code or a link', () => {
    expect(codeFromInput(' Xk3J9qM2aB ')).toBe('Xk3J9qM2aB');
    expect(codeFromInput('https://modu.example/#/open/Xk3J9qM2aB')).toBe('Xk3J9qM2aB');
    expect(codeFromInput('Xk3J9')).toBeNull();
    expect(codeFromInput('강남 독서모임')).toBeNull();
  });

  it('splits tags and numbers form keys', () => {
    expect(parseTags('독서, 책 #모임 책')).toEqual(['독서', '책', '모임']);
    expect(nextFieldKey([], 'real_name')).toBe('real_name');
    expect(nextFieldKey(form, 'real_name')).toBe('real_name_2');
    expect(nextFieldKey(form, 'text')).toBe('q_2');
  });

  it('validates answers before they are sent', () => {
    expect(checkAnswers(form, {})).toEqual({ real_name: 'required', q_1: 'required' });
    expect(checkAnswers(form, { real_name: '김민지', q_1: '안녕하세요', phone: 'call me' })).toEqual({ phone: 'phone' });
    expect(checkAnswers(form, { real_name: '김민지', q_1: 'x'.repeat(1001) })).toEqual({ q_1: 'too_long' });
    expect(checkAnswers(form, { real_name: ' 김민지 ', q_1: 'hi', phone: '+82 10-1234-5678' })).toEqual({});
    expect(cleanAnswers(form, { real_name: ' 김민지 ', phone: ' ', q_1: 'hi' })).toEqual({ real_name: '김민지', q_1: 'hi' });
  });

  it('checks nicknames: 1–20 characters', () => {
    expect(nicknameOk('책벌레')).toBe(true);
    expect(nicknameOk('  ')).toBe(false);
    expect(nicknameOk('가'.repeat(20))).toBe(true);
    expect(nicknameOk('가'.repeat(21))).toBe(false);
  });
});
