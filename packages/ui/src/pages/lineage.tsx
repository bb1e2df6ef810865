import type { Edge, Graph } from '../api.js';
import { LineageGraph, nodeLabel } from '../components/graph.js';
import { Loading, PageError } from '../components/status.js';
import { useApi } from '../hooks.js';
import { href, nodeHref } from '../router.js';

/** Upstream and downstream of a node merged into one graph (datasets -> runs -> versions -> derived). */
export function LineagePage({ node }: { node: string }) {
  const { data, error } = useApi<{
    node: string;
    upstream: Graph;
    downstream: Graph;
    /** Run and dataset names by node id (older registries answer without them). */
    names?: Record<string, string>;
  }>(`/api/v1/lineage?node=${encodeURIComponent(node)}&depth=8`);
  if (error) return <PageError error={error} />;
  if (!data) return <Loading what="lineage" />;
  const nodes = [...new Set([data.node, ...data.upstream.nodes, ...data.downstream.nodes])];
  const seen = new Set<string>();
  const edges: Edge[] = [];
  for (const e of [...data.upstream.edges, ...data.downstream.edges]) {
    const key = `${e.src} ${e.dst} ${e.relation}`;
    if (!seen.has(key)) {
      seen.add(key);
      edges.push(e);
    }
  }
  const names = data.names ?? {};
  const label = (n: string) => nodeLabel(n, names).text;
  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.models()}>Models</a> / lineage
      </nav>
      <h1>Lineage</h1>
      <p>
        of <a href={nodeHref(data.node)}>{label(data.node)}</a>: {nodes.length} node(s), {edges.length}{' '}
        edge(s). Select a node to open it.
      </p>
      {edges.length === 0 ? <p class="muted">No recorded datasets, runs or derived versions.</p> : null}
      <LineageGraph nodes={nodes} edges={edges} root={data.node} names={names} />
      <h2>Edges</h2>
      <ul class="edges">
        {edges.map((e) => (
          <li key={`${e.src}-${e.dst}`}>
            <a href={nodeHref(e.src)}>{label(e.src)}</a> —{e.relation}→{' '}
            <a href={nodeHref(e.dst)}>{label(e.dst)}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}
