/**
 * Kubernetes and KServe manifests for a bundle served by `ferry serve`: plain objects, turned
 * into YAML by the caller. Replicas are stateless (each pulls and verifies the same bundle), so
 * a HorizontalPodAutoscaler can add and remove them freely.
 */

export interface DeploySettings {
  readonly name: string;
  readonly version: string;
  readonly image: string;
  /** `ferry serve` arguments after the command (bundle path, host, ports, signature flags). */
  readonly args: readonly string[];
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly cpu: string;
  readonly memory: string;
  readonly targetCpuPercent: number;
  readonly uid: number;
}

const READY = '/v2/health/ready';
const LIVE = '/v2/health/live';

function labels(s: DeploySettings): Record<string, string> {
  return {
    'app.kubernetes.io/name': s.name,
    'app.kubernetes.io/version': s.version,
    'app.kubernetes.io/component': 'inference',
    'app.kubernetes.io/managed-by': 'ferry',
  };
}

function selector(s: DeploySettings): Record<string, string> {
  return { 'app.kubernetes.io/name': s.name, 'app.kubernetes.io/component': 'inference' };
}

/** Non-root, no privilege escalation, no capabilities, read-only root (the bundle unpacks into /tmp). */
function securityContext(s: DeploySettings) {
  return {
    runAsNonRoot: true,
    runAsUser: s.uid,
    runAsGroup: s.uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function probes(port: string | number) {
  return {
    // Ready only once every model of the bundle is loaded; until then no traffic is routed here.
    readinessProbe: { httpGet: { path: READY, port }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: LIVE, port }, periodSeconds: 10, failureThreshold: 3 },
    // Pulling, verifying and loading a large bundle can take minutes: liveness waits for startup.
    startupProbe: { httpGet: { path: LIVE, port }, periodSeconds: 5, failureThreshold: 60 },
  };
}

export function deployment(s: DeploySettings) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: s.name, labels: labels(s) },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: selector(s) },
      template: {
        metadata: {
          labels: labels(s),
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(s.httpPort),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: s.uid, runAsGroup: s.uid, fsGroup: s.uid },
          containers: [
            {
              name: 'ferry',
              image: s.image,
              args: [...s.args],
              ports: [
                { name: 'http', containerPort: s.httpPort, protocol: 'TCP' },
                { name: 'grpc', containerPort: s.grpcPort, protocol: 'TCP' },
              ],
              env: [{ name: 'TMPDIR', value: '/tmp' }],
              resources: { requests: { cpu: s.cpu, memory: s.memory }, limits: { memory: s.memory } },
              ...probes('http'),
              securityContext: securityContext(s),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
          // Let in-flight requests finish: ferry serve drains on SIGTERM.
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

export function service(s: DeploySettings) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, labels: labels(s) },
    spec: {
      type: 'ClusterIP',
      selector: selector(s),
      ports: [
        { name: 'http', port: s.httpPort, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: s.grpcPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      ],
    },
  };
}

export function horizontalPodAutoscaler(s: DeploySettings) {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: s.name, labels: labels(s) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
      minReplicas: s.replicas,
      maxReplicas: s.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.targetCpuPercent } },
        },
      ],
      behavior: {
        // A new replica needs time to load the bundle: scale down slowly so load spikes do not flap.
        scaleDown: { stabilizationWindowSeconds: 300 },
      },
    },
  };
}

/**
 * A KServe InferenceService with the bundle's image as a custom predictor container (KServe
 * docs, "Deploy a custom predictor": the container is named kserve-container and serves HTTP on
 * the one port it declares). ferry speaks the Open Inference Protocol KServe's v2 clients use.
 */
export function inferenceService(s: DeploySettings) {
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: s.name,
      labels: labels(s),
      annotations: { 'serving.kserve.io/enable-prometheus-scraping': 'true' },
    },
    spec: {
      predictor: {
        minReplicas: s.replicas,
        maxReplicas: s.maxReplicas,
        scaleMetric: 'cpu',
        scaleTarget: s.targetCpuPercent,
        securityContext: { runAsNonRoot: true, runAsUser: s.uid, runAsGroup: s.uid, fsGroup: s.uid },
        containers: [
          {
            name: 'kserve-container',
            image: s.image,
            args: [...s.args],
            ports: [{ containerPort: s.httpPort, protocol: 'TCP' }],
            env: [{ name: 'TMPDIR', value: '/tmp' }],
            resources: { requests: { cpu: s.cpu, memory: s.memory }, limits: { memory: s.memory } },
            ...probes(s.httpPort),
            securityContext: securityContext(s),
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    },
  };
}
