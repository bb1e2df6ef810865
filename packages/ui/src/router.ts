import { useEffect, useState } from 'preact/hooks';

/** Hash routes (`#/models/NAME`): the registry serves one page at `/` and the API owns every other path. */
export interface Route {
  readonly parts: readonly string[];
  readonly query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#/, '') || '/';
  const [path = '/', search = ''] = text.split('?', 2);
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts, query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

const e = encodeURIComponent;
export const href = {
  models: (query = '') => `#/${query ? `?${query}` : ''}`,
  model: (name: string) => `#/models/${e(name)}`,
  version: (name: string, version: number, against?: number) =>
    `#/models/${e(name)}/versions/${version}${against ? `?against=${against}` : ''}`,
  lineage: (node: string) => `#/lineage?node=${e(node)}`,
  run: (id: string) => `#/runs/${e(id)}`,
  runs: () => '#/runs',
  compare: (ids: readonly string[]) => `#/runs/compare?ids=${ids.map(e).join(',')}`,
  tokens: () => '#/tokens',
  deployments: () => '#/deployments',
  audit: (query = '') => `#/audit${query ? `?${query}` : ''}`,
  login: () => '#/login',
};

/** A lineage node id as a link: models:/NAME/N -> version page, run:ID -> run page. */
export function nodeHref(node: string): string {
  const version = /^models:\/(.+)\/(\d+)$/.exec(node);
  if (version) return href.version(version[1]!, Number(version[2]));
  const run = /^run:([0-9a-f]+)$/.exec(node);
  if (run) return href.run(run[1]!);
  return href.lineage(node);
}
