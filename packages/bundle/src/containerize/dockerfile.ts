import { DEFAULT_FERRY_IMAGE, FERRY_IMAGE_BUILD } from './runtime-image.js';

export interface DockerfileSettings {
  readonly base: string;
  /** The tag the build instructions suggest. */
  readonly image: string;
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly description?: string;
  readonly bundleSha256: string;
  /** The bundle folder inside the image, and the ferry serve arguments. */
  readonly args: readonly string[];
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly uid: number;
}

/** A JSON-array (exec form) instruction argument: no shell, no word splitting. */
function exec(args: readonly string[]): string {
  return JSON.stringify(args);
}

function label(value: string): string {
  return JSON.stringify(value);
}

/**
 * The Dockerfile of a bundle's image: the ferry runtime image as base, the bundle (and its
 * signature and public key, when given) copied in read-only and owned by root, a non-root user,
 * and a HEALTHCHECK on /v2/health/ready made with Node's fetch (the base needs no curl).
 */
export function dockerfile(s: DockerfileSettings): string {
  const health = `fetch('http://127.0.0.1:${s.httpPort}/v2/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  const labels = [
    `org.opencontainers.image.title=${label(s.name)}`,
    `org.opencontainers.image.version=${label(s.version)}`,
    ...(s.description ? [`org.opencontainers.image.description=${label(s.description)}`] : []),
    ...(s.license ? [`org.opencontainers.image.licenses=${label(s.license)}`] : []),
    `dev.ferry.bundle.sha256=${label(s.bundleSha256)}`,
  ];
  return `# syntax=docker/dockerfile:1
# Made by \`ferry containerize\`: serves the bundle ${s.name} ${s.version} with \`ferry serve\`.
# Build: docker build -t ${s.image} .
# FERRY_IMAGE is the ferry runtime (Node 20 and the ferry CLI on PATH); point it at your registry's copy.
# ${DEFAULT_FERRY_IMAGE} is built from a ferry clone: ${FERRY_IMAGE_BUILD}
ARG FERRY_IMAGE=${s.base}
FROM \${FERRY_IMAGE}

LABEL ${labels.join(' \\\n      ')}

# The bundle files (mode 0644) are owned by root, so the server runs as an unprivileged user and unpacks
# (after checking every digest, and the signature when required) into its own temp folder.
COPY --chown=0:0 bundle/ /srv/ferry/bundle/
ENV TMPDIR=/tmp
USER ${s.uid}:${s.uid}
WORKDIR /srv/ferry

EXPOSE ${s.httpPort} ${s.grpcPort}
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \\
  CMD ${exec(['node', '-e', health])}
ENTRYPOINT ["ferry", "serve"]
CMD ${exec([...s.args])}
`;
}
