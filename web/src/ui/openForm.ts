/** Pure helpers for the open chat forms: codes and links, tags, form keys, answer checks. */
import type { FormField, FormFieldType } from '../protocol/types';

const CODE = /^[A-Za-z0-9]{10}$/;

/** A room code from what someone typed or pasted: the code itself or a `…#/open/<code>` link. */
export function codeFromInput(input: string): string | null {
  const s = input.trim();
  const m = /#\/open\/([A-Za-z0-9]+)/.exec(s);
  const code = m ? (m[1] as string) : s;
  return CODE.test(code) ? code : null;
}

/** The shareable link of a room on this server. */
export function roomLink(origin: string, code: string): string {
  return `${origin}/#/open/${code}`;
}

/** "독서, 책 #모임" → ["독서", "책", "모임"]: split on commas, spaces and #, deduplicated, at most 10. */
export function parseTags(input: string): string[] {
  const out: string[] = [];
  for (const raw of input.split(/[,\s#]+/)) {
    const tag = Array.from(raw.trim()).slice(0, 20).join('');
    if (tag && !out.includes(tag)) out.push(tag);
    if (out.length === 10) break;
  }
  return out;
}

/** A key for a new form field (`a-z0-9_`, unique in the form): the type's name, numbered if taken. */
export function nextFieldKey(fields: readonly Pick<FormField, 'key'>[], type: FormFieldType): string {
  const base = type === 'text' ? 'q' : type;
  const taken = new Set(fields.map((f) => f.key));
  if (type !== 'text' && !taken.has(base)) return base;
  for (let n = type === 'text' ? 1 : 2; ; n++) {
    const key = `${base}_${n}`;
    if (!taken.has(key)) return key;
  }
}

export const MAX_FORM_FIELDS = 10;
export const MAX_ANSWER_BYTES = 1000;
const PHONE = /^[0-9+\- ]{4,20}$/;

export type AnswerProblem = 'required' | 'phone' | 'too_long';

export function utf8Bytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/**
 * Checks answers as the server will: required fields filled, phones made of digits, spaces,
 * `+` and `-` (4–20 characters), and at most 1,000 bytes each. Returns the problems by key.
 */
export function checkAnswers(form: readonly FormField[], answers: Record<string, string>): Record<string, AnswerProblem> {
  const problems: Record<string, AnswerProblem> = {};
  for (const f of form) {
    const v = (answers[f.key] ?? '').trim();
    if (!v) {
      if (f.required) problems[f.key] = 'required';
      continue;
    }
    if (utf8Bytes(v) > MAX_ANSWER_BYTES) problems[f.key] = 'too_long';
    else if (f.type === 'phone' && !PHONE.test(v)) problems[f.key] = 'phone';
  }
  return problems;
}

/** The answers to send: trimmed, empty ones left out. */
export function cleanAnswers(form: readonly FormField[], answers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of form) {
    const v = (answers[f.key] ?? '').trim();
    if (v) out[f.key] = v;
  }
  return out;
}

/** Nicknames are 1–20 characters and at most 60 bytes. */
export function nicknameOk(name: string): boolean {
  const s = name.trim();
  const n = Array.from(s).length;
  return n >= 1 && n <= 20 && utf8Bytes(s) <= 60;
}
