import dagre from '@dagrejs/dagre';
import type { Edge } from '../api.js';
import { nodeHref } from '../router.js';

const NODE_W = 190;
const NODE_H = 44;

/**
 * A node as people call it: `vision/mnist v2`, the run's or the dataset's name (the lineage API
 * answers them in `names`); an id's first 8 characters only when no name is known.
 */
export function nodeLabel(
  node: string,
  names: Readonly<Record<string, string>> = {},
): { kind: string; text: string } {
  const version = /^models:\/(.+)\/(\d+)$/.exec(node);
  if (version) return { kind: 'version', text: `${version[1]} v${version[2]}` };
  const [kind = 'node', id = node] = node.split(':', 2);
  const name = names[node];
  return { kind, text: name ? `${kind} ${name}` : `${kind} ${id.slice(0, 8)}` };
}

/**
 * The lineage graph laid out left to right by dagre (datasets -> runs -> versions -> derived
 * versions), drawn as SVG. Each node is a link (Tab moves between them, Enter follows).
 */
export function LineageGraph({
  nodes,
  edges,
  root,
  names = {},
}: {
  nodes: string[];
  edges: Edge[];
  root: string;
  names?: Readonly<Record<string, string>>;
}) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 60, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n, { width: NODE_W, height: NODE_H });
  for (const e of edges) g.setEdge(e.src, e.dst, { relation: e.relation });
  dagre.layout(g);
  const size = g.graph();
  const width = Math.ceil(size.width ?? 0);
  const height = Math.ceil(size.height ?? 0);
  return (
    <figure
      class="graph-wrap"
      aria-label={`lineage graph of ${root}: ${nodes.length} nodes, ${edges.length} edges`}
    >
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
        <title>lineage of {root}</title>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="8"
            markerHeight="8"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#64748b" />
          </marker>
        </defs>
        {g.edges().map((e) => {
          const edge = g.edge(e) as { points: { x: number; y: number }[]; relation: string };
          const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
          const mid = edge.points[Math.floor(edge.points.length / 2)]!;
          return (
            <g key={`${e.v}->${e.w}`} class="edge">
              <path d={d} marker-end="url(#arrow)" />
              <text x={mid.x} y={mid.y - 4} text-anchor="middle">
                {edge.relation}
              </text>
            </g>
          );
        })}
        {g.nodes().map((id) => {
          const n = g.node(id);
          const { kind, text } = nodeLabel(id, names);
          return (
            <a
              key={id}
              href={nodeHref(id)}
              class={`node node-${kind}${id === root ? ' root' : ''}`}
              aria-label={`${text} (${id})`}
            >
              <title>{id}</title>
              <rect x={n.x - NODE_W / 2} y={n.y - NODE_H / 2} width={NODE_W} height={NODE_H} rx="6" />
              <text x={n.x} y={n.y + 5} text-anchor="middle">
                {text.length > 26 ? `${text.slice(0, 25)}…` : text}
              </text>
            </a>
          );
        })}
      </svg>
    </figure>
  );
}
