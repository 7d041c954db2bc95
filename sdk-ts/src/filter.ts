/**
 * The engine's filter language as TypeScript types (`docs/bus.md`, "Filter language").
 *
 * Filters are evaluated inside the engine; the SDK passes them through unchanged, and the
 * engine rejects an invalid one with an {@link InvalidFilterError} when the poll or
 * subscription is made. A filter may also be given as JSON text.
 *
 * @module
 */

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A dot path into the event (`"a.b"`; a segment of digits indexes an array). */
type Leaf<Op extends string, V> = { path: string } & { [K in Op]: V };

/** One filter: a comparison at a path, or a combination of filters. */
export type Filter =
  | Leaf<'eq', JsonValue>
  | Leaf<'ne', JsonValue>
  | Leaf<'gt', number | string>
  | Leaf<'gte', number | string>
  | Leaf<'lt', number | string>
  | Leaf<'lte', number | string>
  | Leaf<'in', JsonValue[]>
  | Leaf<'exists', boolean>
  | Leaf<'prefix', string>
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter };
