/**
 * Schemas for typed channels and subscriptions.
 *
 * Any object with a zod-style `safeParse` fits, so zod works without the SDK depending on
 * it (zod 3 and 4 both match). {@link check} runs a schema and throws a
 * {@link ValidationError} listing the issues.
 *
 * @module
 */
import { ValidationError, type ValidationIssue } from './errors.js';

/** The result of `safeParse`. */
export type SafeParseResult<T> =
  | { success: true; data: T }
  | { success: false; error: { message: string; issues?: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };

/** A validator with a zod-style `safeParse` (a zod schema, for one). */
export interface Schema<T> {
  safeParse(value: unknown): SafeParseResult<T>;
}

/** `value` as validated (and possibly transformed) by `schema`; throws {@link ValidationError}. */
export function check<T>(schema: Schema<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = (result.error.issues ?? []).map((i) => ({ path: [...i.path], message: i.message }));
  const detail = issues.length
    ? issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '<value>'}: ${i.message}`).join('; ')
    : result.error.message;
  throw new ValidationError(`${what} does not match the schema: ${detail}`, issues, value);
}
