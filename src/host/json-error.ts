// JSON.parse's errors in words fit for a one-line message: V8 quotes the start of the text (line
// breaks and all) in some of them, so only the kind of problem and its line and column are kept.

/** "unexpected token ':' at line 1, column 1" for a SyntaxError of JSON.parse(text). */
export function jsonSyntaxProblem(err: unknown, text: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const pos = /at position (\d+)/.exec(message);
  let what = message
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (what.length === 0 || what.length > 80 || /is not valid JSON/.test(what)) what = 'unexpected text';
  what = what.charAt(0).toLowerCase() + what.slice(1);
  const token = /^unexpected token '(.)'/.exec(what);
  // Without a position from V8, the first occurrence of the unexpected character is the best guess.
  const at = pos ? Number(pos[1]) : token ? text.indexOf(token[1]) : what.includes('end of JSON') ? text.length : -1;
  if (at < 0) return what;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return `${what} at line ${line}, column ${column}`;
}
