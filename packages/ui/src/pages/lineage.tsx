import type { Edge, Graph } from '../api.js';
import { LineageGraph, nodeLabel } from '../components/graph.js';
import { Loading, PageError } from '../components/status.js';
import { useApi } from '../hooks.js';
import { href, nodeHref } from '../router.js';

/** Upstream and downstream of a node merged into one graph (datasets -> runs -> versions -> derived). */
export function LineagePage({ node }: { node: string }) {
  const { data, error } = useApi<{ node: string; upstream: Graph; downstream: Graph }>(
    `/api/v1/lineage?node=${encodeURIComponent(node)}&depth=8`,
  );
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
  return (
    <section>
      <nav class="crumbs" aria-label="breadcrumb">
        <a href={href.models()}>Models</a> / lineage
      </nav>
      <h1>Lineage</h1>
      <p>
        of <a href={nodeHref(data.node)}>{data.node}</a>: {nodes.length} node(s), {edges.length} edge(s).
        Select a node to open it.
      </p>
      {edges.length === 0 ? <p class="muted">No recorded datasets, runs or derived versions.</p> : null}
      <LineageGraph nodes={nodes} edges={edges} root={data.node} />
      <h2>Edges</h2>
      <ul class="edges">
        {edges.map((e) => (
          <li key={`${e.src}-${e.dst}`}>
            <a href={nodeHref(e.src)}>{nodeLabel(e.src).text}</a> —{e.relation}→{' '}
            <a href={nodeHref(e.dst)}>{nodeLabel(e.dst).text}</a>
          </li>
        ))}
      </ul>
    </section>
  );
}
