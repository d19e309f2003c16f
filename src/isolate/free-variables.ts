/**
 * Finds the names a function's source refers to that nothing in the source declares and that
 * are not globals, so a function that closes over the caller's variables is refused before a
 * child is started, with the names. Deliberately conservative: anything that might declare a
 * name (parameters, `var`/`let`/`const` lists, `function`/`class` names, assignments, catch
 * bindings) counts as declared, and ambiguous positions (object keys, labels, `typeof x`) are
 * not counted as uses, so it may miss a free variable but never refuses a working function.
 */

type Token = {
  readonly kind: "name" | "punct" | "other";
  readonly text: string;
  /** A `)` closing the condition of `if`/`while`/`for`/`with`: a `/` after it starts a regex. */
  readonly control?: boolean;
};
const CONTROL = new Set(["if", "while", "for", "with"]);

const KEYWORDS = new Set(
  (
    "break case catch class const continue debugger default delete do else export extends finally for function if " +
    "import in instanceof new return super switch this throw try typeof var void while with yield let static enum " +
    "await implements package protected interface private public null true false of get set async from as arguments"
  ).split(" "),
);
// After these, a `/` starts a regular expression rather than a division.
const REGEX_AFTER_WORD = new Set(
  "return typeof case do else in of new delete void throw instanceof yield await".split(" "),
);

/** Reads a quoted string starting at `i` (the quote); returns the index after it. */
function skipString(src: string, i: number): number {
  const quote = src[i];
  for (let j = i + 1; j < src.length; j++) {
    if (src[j] === "\\") j++;
    else if (src[j] === quote) return j + 1;
  }
  return src.length;
}

/** Reads a regular expression literal starting at `i` (the slash); returns the index after its flags. */
function skipRegex(src: string, i: number): number {
  let inClass = false;
  let j = i + 1;
  for (; j < src.length; j++) {
    const c = src[j];
    if (c === "\\") j++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "/" && !inClass) break;
    else if (c === "\n") return j;
  }
  j++;
  while (j < src.length && /[A-Za-z]/.test(src[j] ?? "")) j++;
  return j;
}

function regexAllowed(prev: Token | undefined): boolean {
  if (prev === undefined) return true;
  if (prev.kind === "name") return KEYWORDS.has(prev.text) && REGEX_AFTER_WORD.has(prev.text);
  if (prev.kind === "other") return false;
  if (prev.text === ")") return prev.control === true;
  return prev.text !== "]";
}

/** Splits source text into names and punctuation, skipping comments, strings, regexes and template text. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  // For each open parenthesis: whether it opened the condition of a control statement.
  const parens: boolean[] = [];
  // Brace depths at which a template literal's `${` was opened, to resume the template at its `}`.
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  const template = (from: number): number => {
    for (let j = from; j < src.length; j++) {
      if (src[j] === "\\") j++;
      else if (src[j] === "`") return j + 1;
      else if (src[j] === "$" && src[j + 1] === "{") {
        templates.push(depth);
        depth++;
        tokens.push({ kind: "punct", text: "(" });
        return j + 2;
      }
    }
    return src.length;
  };
  while (i < src.length) {
    const c = src[i] ?? "";
    const next = src[i + 1];
    if (/\s/.test(c)) i++;
    else if (c === "/" && next === "/") i = src.indexOf("\n", i) === -1 ? src.length : src.indexOf("\n", i);
    else if (c === "/" && next === "*") i = src.indexOf("*/", i + 2) === -1 ? src.length : src.indexOf("*/", i + 2) + 2;
    else if (c === "'" || c === '"') {
      i = skipString(src, i);
      tokens.push({ kind: "other", text: "string" });
    } else if (c === "`") {
      i = template(i + 1);
      tokens.push({ kind: "other", text: "template" });
    } else if (c === "}" && templates.length > 0 && templates[templates.length - 1] === depth - 1) {
      templates.pop();
      depth--;
      tokens.push({ kind: "punct", text: ")" });
      i = template(i + 1);
      tokens.push({ kind: "other", text: "template" });
    } else if (c === "/" && regexAllowed(tokens[tokens.length - 1])) {
      i = skipRegex(src, i);
      tokens.push({ kind: "other", text: "regex" });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      const match = /^[\w$\u0080-\uffff]+/.exec(src.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: "name", text: match[0] });
      i += match[0].length;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(next ?? ""))) {
      const match = /^[0-9a-zA-Z_.]+/.exec(src.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: "other", text: "number" });
      i += match[0].length;
    } else if (c === "#") {
      // A private name (#field): never a variable.
      const match = /^#[\w$\u0080-\uffff]*/.exec(src.slice(i, i + 256)) as RegExpExecArray;
      tokens.push({ kind: "other", text: "private" });
      i += match[0].length;
    } else {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      const text =
        three === "..." || three === "===" || three === "!=="
          ? three
          : [
                "=>",
                "?.",
                "==",
                "!=",
                "<=",
                ">=",
                "+=",
                "-=",
                "*=",
                "/=",
                "%=",
                "&=",
                "|=",
                "^=",
                "??",
                "&&",
                "||",
                "++",
                "--",
              ].includes(two)
            ? two
            : c;
      if (text === "{") depth++;
      if (text === "}") depth--;
      const prev = tokens[tokens.length - 1];
      if (text === "(") parens.push(prev?.kind === "name" && CONTROL.has(prev.text));
      if (text === ")" && parens.pop() === true) tokens.push({ kind: "punct", text, control: true });
      else tokens.push({ kind: "punct", text });
      i += text.length;
    }
  }
  return tokens;
}

const OPEN: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** Index of the token closing the group opened at `open`, or -1. */
function closing(tokens: readonly Token[], open: number): number {
  const stack: string[] = [];
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind !== "punct") continue;
    if (OPEN[t.text] !== undefined) stack.push(OPEN[t.text] as string);
    else if (t.text === stack[stack.length - 1]) {
      stack.pop();
      if (stack.length === 0) return k;
    }
  }
  return -1;
}

/** Every name the source might declare (an over-approximation: see the file's comment). */
function declaredNames(tokens: readonly Token[]): Set<string> {
  const declared = new Set<string>();
  const names = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (tokens[k]?.kind === "name") declared.add((tokens[k] as Token).text);
  };
  tokens.forEach((t, k) => {
    const next = tokens[k + 1];
    if (t.kind === "name" && (t.text === "function" || t.text === "class")) {
      const name = tokens[k + 1]?.text === "*" ? tokens[k + 2] : next;
      if (name?.kind === "name") declared.add(name.text);
    }
    // An assignment target, or a lone arrow parameter: `x = ...` (sloppy code may create a global), `x => ...`.
    if (t.kind === "name" && next?.kind === "punct" && ["=", "=>", "+=", "-=", "||=", "&&=", "??="].includes(next.text))
      declared.add(t.text);
    // A parameter list (or a condition before a block: counted too, which only makes this more cautious).
    if (t.text === ")" && t.kind === "punct") {
      const after = tokens[k + 1]?.text;
      if (after === "=>" || after === "{") {
        let depth = 0;
        for (let j = k; j >= 0; j--) {
          const p = tokens[j] as Token;
          if (p.kind === "punct" && (p.text === ")" || p.text === "]" || p.text === "}")) depth++;
          if (p.kind === "punct" && (p.text === "(" || p.text === "[" || p.text === "{")) depth--;
          if (depth === 0) {
            names(j, k);
            break;
          }
        }
      }
    }
    // var/let/const lists: the names in each binding (patterns included), not in the initializers,
    // up to the end of the statement (or of the enclosing group).
    if (t.kind === "name" && (t.text === "var" || t.text === "let" || t.text === "const")) {
      let depth = 0;
      let binding = true;
      for (let j = k + 1; j < tokens.length; j++) {
        const p = tokens[j] as Token;
        if (p.kind === "punct" && OPEN[p.text] !== undefined) depth++;
        else if (p.kind === "punct" && (p.text === ")" || p.text === "]" || p.text === "}")) {
          if (depth === 0) break;
          depth--;
        } else if (depth === 0 && p.kind === "punct" && p.text === ";") break;
        else if (depth === 0 && p.kind === "punct" && p.text === "=") binding = false;
        else if (depth === 0 && p.kind === "punct" && p.text === ",") binding = true;
        // `for (const x of xs)`: the binding ends at `of` / `in`.
        else if (depth === 0 && p.kind === "name" && (p.text === "of" || p.text === "in")) binding = false;
        if (binding && p.kind === "name") declared.add(p.text);
      }
    }
  });
  return declared;
}

/** Whether the name token at `k` is a use of a variable (not a property, key, label or method name). */
function isUse(tokens: readonly Token[], k: number): boolean {
  const t = tokens[k] as Token;
  if (t.kind !== "name" || KEYWORDS.has(t.text)) return false;
  const prev = tokens[k - 1];
  const next = tokens[k + 1];
  if (prev?.kind === "punct" && (prev.text === "." || prev.text === "?.")) return false;
  if (
    prev?.kind === "name" &&
    ["typeof", "break", "continue", "get", "set", "static", "async", "function", "class"].includes(prev.text)
  )
    return false;
  // An object key or a label (`{ a: 1 }`, `loop: for`); the `b` of `a ? b : c` is a use.
  const keyPosition = prev === undefined || (prev.kind === "punct" && ["{", ",", ";", "}"].includes(prev.text));
  if (next?.kind === "punct" && next.text === ":" && keyPosition) return false;
  // A class field without an initializer (`class A { count; }`), or a bare `name;` statement.
  if (
    prev?.kind === "punct" &&
    ["{", ";", "}"].includes(prev.text) &&
    next?.kind === "punct" &&
    [";", "}"].includes(next.text)
  )
    return false;
  // A method definition: `name(...) {`.
  if (next?.kind === "punct" && next.text === "(") {
    const end = closing(tokens, k + 1);
    if (end !== -1 && tokens[end + 1]?.text === "{") return false;
  }
  return true;
}

/**
 * The names `source` (a function expression) uses that it does not declare and that `isGlobal`
 * does not know.
 *
 * @param source A function's source text.
 * @param isGlobal Whether a name exists as a global where the function will run.
 * @returns The free names, in order of first use.
 */
export function freeVariables(source: string, isGlobal: (name: string) => boolean): string[] {
  const tokens = tokenize(source);
  const declared = declaredNames(tokens);
  // A name the function tests with `typeof` may be used only where it exists: never refused.
  const guarded = new Set(
    tokens.filter((t, k) => t.kind === "name" && tokens[k - 1]?.text === "typeof").map((t) => t.text),
  );
  const free = new Set<string>();
  tokens.forEach((t, k) => {
    if (isUse(tokens, k) && !declared.has(t.text) && !guarded.has(t.text) && !isGlobal(t.text)) free.add(t.text);
  });
  return [...free];
}
