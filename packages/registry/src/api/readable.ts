import type { Readable } from '../store/search.js';
import type { Principal } from './auth.js';

/** The models a principal may read, as the SQL search layer wants it. */
export function readableFor(principal: Principal): Readable {
  const namespaces: string[] = [];
  const names: string[] = [];
  for (const g of principal.grants) {
    if (g.resource === '*') return { all: true, namespaces: [], names: [] };
    if (g.resource.endsWith('/*')) namespaces.push(g.resource.slice(0, -2));
    else names.push(g.resource);
  }
  return { all: false, namespaces, names };
}
