import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type Whoami } from './api.js';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** How often live views re-read what changes under them: deployments, their metrics. */
export const LIVE_REFRESH_MS = 2000;

/**
 * GETs `path` (null: nothing yet) and re-fetches when it changes or on reload(); with `refreshMs`,
 * also every refreshMs while the tab is visible (a deployment's live version changes under the
 * page). A failed refresh keeps the last answer on screen next to the error.
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    api<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) =>
        live && setState((s) => ({ ...(refreshMs && { data: s.data }), error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [path, tick, refreshMs]);
  useEffect(() => {
    if (path === null || !refreshMs) return;
    const timer = setInterval(() => {
      if (!document.hidden) setTick((t) => t + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [path, refreshMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export const WhoamiContext = createContext<{ who: Whoami; refresh: () => void }>({
  who: { user: 'anonymous', anonymous: true, scopes: [] },
  refresh: () => undefined,
});

export const useWhoami = () => useContext(WhoamiContext);
