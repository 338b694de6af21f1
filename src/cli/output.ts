/**
 * Where the CLI writes. Human-readable lines and tables by default; with the global `--json`
 * flag a command prints the API's JSON result as it is, for scripts.
 */

/** The process streams, replaceable so the CLI can run in-process (tests). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  stdin: process.stdin,
};

export class Output {
  constructor(
    private readonly io: Io,
    /** True with `--json`. */
    readonly json: boolean,
  ) {}

  /** Print a command's result: the JSON itself with `--json`, else through `human`. */
  result<T>(value: T, human: (value: T) => void): void {
    if (this.json) this.printJson(value);
    else human(value);
  }

  printJson(value: unknown): void {
    if (value !== undefined) this.io.out(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ''): void {
    this.io.out(`${text}\n`);
  }

  /** A message for the user that is not the result (stderr, so stdout stays parseable). */
  warn(text: string): void {
    this.io.err(`${text}\n`);
  }

  /**
   * Rows as an aligned table; the header is the column names in capitals. Null and undefined
   * cells print as `-`; an empty list prints `empty` instead.
   */
  table(rows: ReadonlyArray<object>, columns: string[], empty = '(none)'): void {
    if (rows.length === 0) {
      this.line(empty);
      return;
    }
    const cells = rows.map((row) => columns.map((c) => cell((row as Record<string, unknown>)[c])));
    const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
    const format = (values: string[]) =>
      values
        .map((v, i) => v.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
    this.line(format(columns.map((c) => c.toUpperCase())));
    for (const r of cells) this.line(format(r));
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s*\n\s*/g, ' ');
}
