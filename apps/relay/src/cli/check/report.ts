/** One line of the checklist: ✓ passed, ⚠ works but needs attention, ✗ failed (with the fix), – not checked. */
export type Mark = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckLine {
  readonly mark: Mark;
  /** What was checked, e.g. `op 13` or `TLS`. */
  readonly what: string;
  /** What was found. */
  readonly detail: string;
  /** For ✗ and ⚠: what to do about it. */
  readonly fix?: string;
}

export type Language = 'en' | 'zh';

/** 中文 when LC_ALL, LC_MESSAGES or LANG (the first one set, as POSIX orders them) starts with zh; else English. */
export function languageOf(env: NodeJS.ProcessEnv): Language {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** Picks the sentence in the user's language; both are written side by side where the check decides what to say. */
export type Say = (en: string, zh: string) => string;
export const sayIn =
  (language: Language): Say =>
  (en, zh) =>
    language === 'zh' ? zh : en;

const MARKS: Record<Mark, string> = { ok: '✓', warn: '⚠', fail: '✗', skip: '–' };

export function renderReport(title: string, lines: readonly CheckLine[], say: Say): string {
  const out = [title, ''];
  for (const line of lines) {
    out.push(`${MARKS[line.mark]} ${line.what}: ${line.detail}`);
    if (line.fix && (line.mark === 'fail' || line.mark === 'warn')) {
      const [first, ...rest] = line.fix.split('\n');
      out.push(`    ${say('fix', '修复')}: ${first}`);
      for (const more of rest) out.push(`      ${more}`);
    }
  }
  const count = (mark: Mark) => lines.filter((l) => l.mark === mark).length;
  out.push(
    '',
    say(
      `${count('ok')} passed, ${count('fail')} failed, ${count('warn')} warnings, ${count('skip')} not checked`,
      `${count('ok')} 项通过，${count('fail')} 项失败，${count('warn')} 项警告，${count('skip')} 项未检查`,
    ),
    '',
  );
  return out.join('\n');
}
