/** The error every client call throws: the server's `{ error: { code, message } }`, or a connection failure (status 0). */
export class HeraldError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.status = status;
    this.code = code;
  }
}
