/** Airflow's limit / offset query parameters, as a JSON schema fragment for route schemas. */
export const PAGE_QUERY = {
  limit: { type: 'integer', minimum: 0, default: 50, description: 'How many items to return (Airflow: limit).' },
  offset: { type: 'integer', minimum: 0, default: 0, description: 'How many items to skip.' },
} as const;

export interface PageQuery {
  limit: number;
  offset: number;
}

/** One page of an in-memory list. */
export function pageOf<T>(items: readonly T[], q: PageQuery): T[] {
  return items.slice(q.offset, q.offset + q.limit);
}
