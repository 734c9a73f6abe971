// The two error types of the codec. Hostile input must only ever surface as a
// DecodeError (with the byte offset where decoding stopped and a machine-readable
// code); values that do not fit their schema surface as EncodeError.

/** Why a decode failed. Stable strings: match on these, not on messages. */
export type DecodeErrorCode =
  /** The input ended before the value did. */
  | 'truncated'
  /** A bool byte other than 0 or 1. */
  | 'invalid-bool'
  /** An Option tag byte other than 0 or 1. */
  | 'invalid-option-tag'
  /** An enum variant index past the last declared variant. */
  | 'invalid-variant'
  /** A string that is not valid UTF-8. */
  | 'invalid-utf8'
  /** A char that is not the UTF-8 form of one Unicode scalar value. */
  | 'invalid-char'
  /**
   * A varint whose value does not fit its target type. Kept for the API: with
   * bincode's standard config every marker the target accepts fits it, so a
   * too-wide value shows up as 'invalid-varint-marker' instead.
   */
  | 'varint-overflow'
  /** A varint marker byte wider than the target type allows (or 255). */
  | 'invalid-varint-marker'
  /** A length or element count larger than what the remaining input can hold. */
  | 'length-exceeds-input'
  /** A count of zero-sized elements above the reader's limit (they take no bytes, so the input cannot bound them). */
  | 'length-exceeds-limit'
  /** Nesting of recursive (`t.lazy`) schemas deeper than the reader's limit. */
  | 'depth-exceeded'
  /** Bytes left over after the value, with `strict: true`. */
  | 'trailing-bytes'
  /** A frame length prefix above the FrameReader's maximum. */
  | 'frame-too-large'
  /** A custom schema rejected the bytes (see `Reader.fail`). */
  | 'invalid-value';

/**
 * The base of every error syncstate-ts throws, in every package: `code` names
 * the condition for programs (a kebab-case string each package types as a
 * union; match on it, not on messages), `message` is for people, `cause` is
 * the underlying error, if any.
 */
export class SyncstateError<Code extends string = string> extends Error {
  override name = 'SyncstateError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class DecodeError extends SyncstateError<DecodeErrorCode> {
  override readonly name = 'DecodeError';
  /** Byte offset (into the decoded Uint8Array, or the stream for FrameReader) of the item that failed. */
  readonly offset: number;

  constructor(code: DecodeErrorCode, offset: number, message?: string) {
    super(code, `${message ?? code} at byte ${offset}`);
    this.offset = offset;
  }
}

/** Why an encode failed. Stable strings: match on these, not on messages. */
export type EncodeErrorCode =
  /** The value does not have the schema's type, range, length or variant. */
  | 'unencodable-value'
  /** A string (or char) holding a lone surrogate: not valid Unicode, so it has no UTF-8 form. */
  | 'lone-surrogate'
  /** A frame payload longer than its u32 length prefix can state. */
  | 'frame-too-large';

/** A value that cannot be encoded with the schema it was given. */
export class EncodeError extends SyncstateError<EncodeErrorCode> {
  override readonly name = 'EncodeError';
  /** Where in the value the problem is: field names, element indexes, variant names (outermost first). */
  readonly path: readonly (string | number)[];
  /** The message without the path. */
  readonly detail: string;

  constructor(code: EncodeErrorCode, detail: string, path: readonly (string | number)[] = []) {
    super(code, path.length === 0 ? detail : `${detail} (at ${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')})`);
    this.detail = detail;
    this.path = path;
  }

  /** The same error one level further out (`segment` prefixed to the path). */
  within(segment: string | number): EncodeError {
    return new EncodeError(this.code, this.detail, [segment, ...this.path]);
  }
}

/** Rethrows `e` with `segment` prefixed to its path if it is an EncodeError. */
export function rethrowWithin(e: unknown, segment: string | number): never {
  throw e instanceof EncodeError ? e.within(segment) : e;
}

/** Short, safe description of an arbitrary value for error messages. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return `${value}n`;
    case 'string':
      return value.length > 40 ? `string(${value.length})` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
      if (Array.isArray(value)) return `array(${value.length})`;
      return value.constructor?.name ?? 'object';
    default:
      return typeof value;
  }
}
