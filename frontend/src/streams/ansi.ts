// ANSI SGR colours in log lines, rendered as DOM spans (textContent only: nothing from the log
// is ever parsed as HTML, and the server's CSP forbids inline style attributes, so colours
// outside the 16-colour classes go through the CSSOM).

export interface Segment {
  text: string;
  fg: number; // -1 default, 0..15 class, 16..255 palette, or 0x1000000 + rgb (truecolor)
  bg: number;
  flags: number; // 1 bold, 2 dim, 4 italic, 8 underline, 16 inverse
}

const TRUE = 0x1000000;
// eslint-disable-next-line no-control-regex
const ESC_RE = /\x1b\[([0-9;:]*)([A-Za-z])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]/g;

/** The text a line shows, without escape sequences (what search matches against). */
export function stripAnsi(s: string): string {
  return s.indexOf('\x1b') < 0 ? s : s.replace(ESC_RE, '');
}

/** Splits a line into styled segments; non-SGR escape sequences are dropped. */
export function parseAnsi(s: string): Segment[] {
  if (s.indexOf('\x1b') < 0) return [{ text: s, fg: -1, bg: -1, flags: 0 }];
  const out: Segment[] = [];
  let fg = -1;
  let bg = -1;
  let flags = 0;
  let last = 0;
  ESC_RE.lastIndex = 0;
  for (let m = ESC_RE.exec(s); m; m = ESC_RE.exec(s)) {
    if (m.index > last) out.push({ text: s.slice(last, m.index), fg, bg, flags });
    last = ESC_RE.lastIndex;
    if (m[2] !== 'm') continue;
    const codes = (m[1] || '0').split(/[;:]/).map((c) => (c === '' ? 0 : Number(c)));
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) (fg = -1), (bg = -1), (flags = 0);
      else if (c === 1) flags |= 1;
      else if (c === 2) flags |= 2;
      else if (c === 3) flags |= 4;
      else if (c === 4) flags |= 8;
      else if (c === 7) flags |= 16;
      else if (c === 22) flags &= ~3;
      else if (c === 23) flags &= ~4;
      else if (c === 24) flags &= ~8;
      else if (c === 27) flags &= ~16;
      else if (c >= 30 && c <= 37) fg = c - 30;
      else if (c >= 90 && c <= 97) fg = c - 90 + 8;
      else if (c === 39) fg = -1;
      else if (c >= 40 && c <= 47) bg = c - 40;
      else if (c >= 100 && c <= 107) bg = c - 100 + 8;
      else if (c === 49) bg = -1;
      else if (c === 38 || c === 48) {
        let v = -1;
        if (codes[i + 1] === 5 && i + 2 < codes.length) {
          v = codes[i + 2] & 255;
          i += 2;
        } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
          v = TRUE + (((codes[i + 2] & 255) << 16) | ((codes[i + 3] & 255) << 8) | (codes[i + 4] & 255));
          i += 4;
        }
        if (c === 38) fg = v;
        else bg = v;
      }
    }
  }
  if (last < s.length) out.push({ text: s.slice(last), fg, bg, flags });
  return out;
}

function paletteRgb(n: number): string {
  if (n >= TRUE) {
    const v = n - TRUE;
    return `rgb(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255})`;
  }
  if (n >= 232) {
    const g = 8 + (n - 232) * 10;
    return `rgb(${g},${g},${g})`;
  }
  const i = n - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  return `rgb(${steps[Math.floor(i / 36)]},${steps[Math.floor(i / 6) % 6]},${steps[i % 6]})`;
}

function styled(seg: Segment, text: string, mark: 0 | 1 | 2): Node {
  let fg = seg.fg;
  let bg = seg.bg;
  if (seg.flags & 16) [fg, bg] = [bg === -1 ? 0 : bg, fg === -1 ? 7 : fg];
  if (fg === -1 && bg === -1 && seg.flags === 0 && mark === 0) return document.createTextNode(text);
  const el = document.createElement(mark ? 'mark' : 'span');
  el.textContent = text;
  const cls: string[] = [];
  if (mark) cls.push(mark === 2 ? 'kl-hit kl-hit-current' : 'kl-hit');
  if (fg >= 0 && fg < 16) cls.push(`kl-f${fg}`);
  else if (fg >= 16) el.style.color = paletteRgb(fg);
  if (bg >= 0 && bg < 16) cls.push(`kl-b${bg}`);
  else if (bg >= 16) el.style.backgroundColor = paletteRgb(bg);
  if (seg.flags & 1) cls.push('kl-bold');
  if (seg.flags & 2) cls.push('kl-dim');
  if (seg.flags & 4) cls.push('kl-italic');
  if (seg.flags & 8) cls.push('kl-underline');
  if (cls.length) el.className = cls.join(' ');
  return el;
}

/** [start, end) ranges of regex matches in plain text (zero-length matches skipped). */
export function matchRanges(plain: string, re: RegExp, limit = 200): number[] {
  const out: number[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(plain); m && out.length < limit * 2; m = re.exec(plain)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    out.push(m.index, m.index + m[0].length);
  }
  return out;
}

/** Appends the rendered line to `into`: ANSI styles, and <mark>s for search matches. */
export function renderLine(into: HTMLElement, line: string, re: RegExp | null, current: boolean): void {
  const segs = parseAnsi(line);
  if (!re) {
    for (const seg of segs) if (seg.text) into.appendChild(styled(seg, seg.text, 0));
    return;
  }
  const plain = segs.length === 1 ? segs[0].text : segs.map((s) => s.text).join('');
  const ranges = matchRanges(plain, re);
  if (!ranges.length) {
    for (const seg of segs) if (seg.text) into.appendChild(styled(seg, seg.text, 0));
    return;
  }
  const mark: 1 | 2 = current ? 2 : 1;
  let pos = 0; // offset in plain of the current segment's start
  let r = 0;
  for (const seg of segs) {
    const end = pos + seg.text.length;
    let at = pos;
    while (at < end) {
      while (r < ranges.length && ranges[r + 1] <= at) r += 2;
      if (r >= ranges.length || ranges[r] >= end) {
        into.appendChild(styled(seg, seg.text.slice(at - pos), 0));
        at = end;
      } else if (ranges[r] > at) {
        into.appendChild(styled(seg, seg.text.slice(at - pos, ranges[r] - pos), 0));
        at = ranges[r];
      } else {
        const stop = Math.min(end, ranges[r + 1]);
        into.appendChild(styled(seg, seg.text.slice(at - pos, stop - pos), mark));
        at = stop;
      }
    }
    pos = end;
  }
}

/** Builds the search regex; throws SyntaxError for a bad pattern. Smart case: any capital letter
 * makes the search case-sensitive. */
export function searchRegex(query: string, regex: boolean): RegExp | null {
  if (!query) return null;
  const flags = /[A-Z]/.test(query) ? 'g' : 'gi';
  return new RegExp(regex ? query : query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), flags);
}
