/**
 * Every failure numgate reports is a value with a `code`, in the style of Zod's issues:
 * callers switch on `code`, and the message always names the file (and field) at fault.
 * Layers return or throw `NumgateError` only; a bare `Error` crossing a layer boundary is a bug.
 */
export type NumgateErrorCode =
  | "file_not_found"
  | "file_unreadable"
  | "path_outside"
  | "invalid_json"
  | "invalid_yaml"
  | "schema_violation"
  | "safetensors_invalid"
  | "npy_invalid"
  | "tensor_missing"
  | "tensor_shape"
  | "dtype_unsupported"
  | "oracle_not_recorded"
  | "oracle_invalid"
  | "unknown_model"
  | "unknown_rung"
  | "candidate_invalid"
  | "backend_failed"
  | "non_finite"
  | "positions_invalid"
  | "report_invalid"
  | "internal";

export interface NumgateErrorDetails {
  /** Path of the file at fault, relative to the working directory where possible. */
  file?: string;
  /** Field, tensor name or JSON path inside that file. */
  field?: string;
  /** 1-based line and column where the fault sits (spec files). */
  line?: number;
  column?: number;
  cause?: unknown;
}

export class NumgateError extends Error {
  readonly code: NumgateErrorCode;
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(code: NumgateErrorCode, message: string, details: NumgateErrorDetails = {}) {
    super(formatMessage(message, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "NumgateError";
    this.code = code;
    this.file = details.file;
    this.field = details.field;
    this.line = details.line;
    this.column = details.column;
  }

  /** The plain-data form that goes into report.json. */
  toJSON(): { code: NumgateErrorCode; message: string; file?: string; field?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.field === undefined ? {} : { field: this.field }),
    };
  }
}

function formatMessage(message: string, d: NumgateErrorDetails): string {
  if (d.file === undefined) return message;
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.column ?? 1}`;
  return d.field === undefined ? `${where}: ${message}` : `${where}: ${d.field}: ${message}`;
}

export function isNumgateError(e: unknown): e is NumgateError {
  return e instanceof NumgateError;
}
