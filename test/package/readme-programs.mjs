// The code blocks of a Markdown file as programs to run. Each ```ts / ```js block is one complete
// program, except a block whose first line is a comment saying it continues ("// …continuing the
// program above"): that one is appended to the program before it. ```sh and other languages are
// not programs. An HTML comment right before a block (invisible on the rendered page) says what
// the test expects when that is not "exits 0": `<!-- doctest: fails USBFN_ERR_PLATFORM off Windows -->`
// (a Windows-only program) or `<!-- doctest: fails USBFN_ERR_PLATFORM without a UDC -->` (a Linux
// program that needs a USB device controller, which a CI machine does not have).

const LANGUAGES = new Map([['ts', 'ts'], ['typescript', 'ts'], ['js', 'js'], ['javascript', 'js']]);
const CONTINUES = /^\/\/\s*(…|\.\.\.)?\s*continu(es|ing|ed)\b/i;
const DIRECTIVE = /^<!--\s*doctest:\s*(.*?)\s*-->$/;

/**
 * Returns [{ line, lang, code, expectFailure }] for every program block of `markdown`, `line`
 * being the 1-based line of its opening fence, `code` the whole program (with the programs it
 * continues), `expectFailure` the code named by a `fails CODE off Windows` / `fails CODE without a
 * UDC` directive, or null, and `condition` the rest of that directive.
 * Throws for a continuing block with nothing before it or a block never closed.
 */
export function readmePrograms(markdown) {
  const lines = markdown.split('\n');
  const programs = [];
  let directive = null;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i].trim();
    const d = DIRECTIVE.exec(text);
    if (d) {
      directive = d[1];
      continue;
    }
    const fence = /^(\s*)```\s*([\w-]*)\s*$/.exec(lines[i]);
    if (!fence) {
      if (text) directive = null;
      continue;
    }
    const [, indent, info] = fence;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`README line ${i + 1}: a code block is never closed`);
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
    const lang = LANGUAGES.get(info.toLowerCase());
    if (lang) programs.push(program(programs, i + 1, lang, body, directive));
    directive = null;
    i = end;
  }
  return programs;
}

function program(before, line, lang, body, directive) {
  const first = body.split('\n').find((l) => l.trim()) ?? '';
  let code = body;
  if (CONTINUES.test(first.trim())) {
    const previous = before[before.length - 1];
    if (!previous) throw new Error(`README line ${line}: the block continues a program, but none comes before it`);
    if (previous.lang !== lang) throw new Error(`README line ${line}: continues a ${previous.lang} program as ${lang}`);
    code = `${previous.code}\n${body}`;
  }
  let expectFailure = null;
  let condition = null;
  if (directive) {
    const m = /^fails (\w+) (off Windows|without a UDC)$/.exec(directive);
    if (!m) throw new Error(`README line ${line}: unknown doctest directive "${directive}"`);
    [, expectFailure, condition] = m;
  }
  return { line, lang, code, expectFailure, condition };
}
