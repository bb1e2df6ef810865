/**
 * What ferry answers of the Hugging Face Hub and MLflow REST APIs, endpoint by endpoint. docs/registry.md
 * holds this table as rendered by renderCompatMatrix(); test/compat-matrix.test.ts checks the two
 * agree and that the server routes exactly the rows marked supported or mapped.
 *
 * supported: the client's call works as against the original. mapped: it works, onto a ferry
 * concept that differs (the note says how). refused: not routed (MLflow answers ENDPOINT_NOT_FOUND,
 * the Hub routes 404).
 */
export type Support = 'supported' | 'mapped' | 'refused';

export interface CompatRow {
  readonly api: 'Hub' | 'MLflow';
  readonly methods: readonly string[];
  /** Fastify's route syntax; MLflow paths are under /api/2.0/mlflow. */
  readonly path: string;
  readonly support: Support;
  readonly note: string;
}

const M = '/api/2.0/mlflow';

export const COMPAT_MATRIX: readonly CompatRow[] = [
  // --- Hugging Face Hub ---
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/whoami-v2',
    support: 'mapped',
    note: "the token's user; `team/*` grants are orgs; role write or read",
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models',
    support: 'mapped',
    note: 'author, search, filter (model tags), sort (id, lastModified, createdAt; downloads/likes/trendingScore are 0: ties by id), direction, limit, cursor + Link; pipeline_tag, library, language refused (400)',
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/api/repos/create',
    support: 'supported',
    note: 'model repos only; private/visibility; `files` refused (commit them)',
  },
  {
    api: 'Hub',
    methods: ['DELETE'],
    path: '/api/repos/delete',
    support: 'supported',
    note: 'needs admin on the model',
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name',
    support: 'mapped',
    note: "model info at main: sha is the version digest's first 40 hex digits, cardData from the model card",
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name/revision/:rev',
    support: 'mapped',
    note: 'rev: main/HEAD, a version number, an alias or a digest prefix',
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name/tree/:rev',
    support: 'supported',
    note: 'recursive, expand, limit + cursor (Link)',
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name/tree/:rev/*',
    support: 'supported',
    note: 'a folder of the tree',
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/api/models/:ns/:name/paths-info/:rev',
    support: 'supported',
    note: 'JSON or form-encoded',
  },
  {
    api: 'Hub',
    methods: ['GET', 'HEAD'],
    path: '/:ns/:name/resolve/:rev/*',
    support: 'supported',
    note: 'ETag, X-Repo-Commit, X-Linked-Size/Etag, Range; only versions the scan shows safe',
  },
  {
    api: 'Hub',
    methods: ['GET', 'HEAD'],
    path: '/:ns/:name/raw/:rev/*',
    support: 'mapped',
    note: "the file's content (ferry keeps no LFS pointers), as resolve/",
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/api/models/:ns/:name/preupload/:rev',
    support: 'mapped',
    note: 'regular up to 1 MiB of text, LFS above or binary',
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/:ns/:repo/info/lfs/objects/batch',
    support: 'mapped',
    note: '`{repo}.git`: upload, basic transfer only (xet and multipart are not offered); stored blobs need no upload',
  },
  {
    api: 'Hub',
    methods: ['PUT'],
    path: '/api/hub-lfs/:id/:oid/:size',
    support: 'mapped',
    note: "the basic transfer's upload URL: a one-use session id; kept only if the sha256 is the oid",
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/api/models/:ns/:name/commit/:rev',
    support: 'mapped',
    note: 'a new ferry version (parent files + changes), inspected and scanned as a push; summary + description its description; a commit to an alias moves it; parentCommit checked (412)',
  },
  {
    api: 'Hub',
    methods: ['POST'],
    path: '/api/models/:ns/:name/branch/:branch',
    support: 'refused',
    note: "branches are aliases: set one with ferry alias or MLflow's registered-models/alias",
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name/commits/:rev',
    support: 'refused',
    note: 'the version list is /api/v1/models/NAME/versions',
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/models/:ns/:name/refs',
    support: 'refused',
    note: 'aliases: /api/v1/models/NAME',
  },
  {
    api: 'Hub',
    methods: ['PUT'],
    path: '/api/models/:ns/:name/settings',
    support: 'refused',
    note: 'visibility: PATCH /api/v1/models/NAME',
  },
  {
    api: 'Hub',
    methods: ['GET'],
    path: '/api/datasets',
    support: 'refused',
    note: 'ferry holds models only (datasets and spaces)',
  },
  // --- MLflow model registry ---
  { api: 'MLflow', methods: ['POST'], path: `${M}/registered-models/create`, support: 'supported', note: '' },
  { api: 'MLflow', methods: ['GET'], path: `${M}/registered-models/get`, support: 'supported', note: '' },
  { api: 'MLflow', methods: ['POST'], path: `${M}/registered-models/rename`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['PATCH'],
    path: `${M}/registered-models/update`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['DELETE'],
    path: `${M}/registered-models/delete`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['GET', 'POST'],
    path: `${M}/registered-models/search`,
    support: 'supported',
    note: 'filter name/tags; order_by name, timestamp, last_updated_timestamp',
  },
  {
    api: 'MLflow',
    methods: ['GET', 'POST'],
    path: `${M}/registered-models/get-latest-versions`,
    support: 'mapped',
    note: 'stages are aliases: Staging/Production the versions `staging`/`production` name, None the latest',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/registered-models/set-tag`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['DELETE'],
    path: `${M}/registered-models/delete-tag`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['POST', 'DELETE', 'GET'],
    path: `${M}/registered-models/alias`,
    support: 'supported',
    note: 'protected aliases need admin',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/model-versions/create`,
    support: 'mapped',
    note: 'a ready version pointing at `source`; `run_id` records the lineage edge run -> version',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/model-versions/get`,
    support: 'supported',
    note: 'current_stage from the stage aliases',
  },
  { api: 'MLflow', methods: ['PATCH'], path: `${M}/model-versions/update`, support: 'supported', note: '' },
  { api: 'MLflow', methods: ['DELETE'], path: `${M}/model-versions/delete`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['GET', 'POST'],
    path: `${M}/model-versions/search`,
    support: 'supported',
    note: 'filter name, run_id, source_path, tags; order_by name, version_number, creation_timestamp, last_updated_timestamp',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/model-versions/get-download-uri`,
    support: 'mapped',
    note: "ferry's download route, or the registered source",
  },
  { api: 'MLflow', methods: ['POST'], path: `${M}/model-versions/set-tag`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['DELETE'],
    path: `${M}/model-versions/delete-tag`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/model-versions/transition-stage`,
    support: 'mapped',
    note: 'Staging/Production move the alias `staging`/`production` (the previous holder leaves the stage); None/Archived remove both',
  },
  // --- MLflow tracking ---
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/experiments/create`,
    support: 'supported',
    note: 'ids are numbers; 0 is Default',
  },
  { api: 'MLflow', methods: ['GET'], path: `${M}/experiments/get`, support: 'supported', note: '' },
  { api: 'MLflow', methods: ['GET'], path: `${M}/experiments/get-by-name`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['GET', 'POST'],
    path: `${M}/experiments/search`,
    support: 'supported',
    note: 'filter name/tags/creation_time/last_update_time; order_by; view_type',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/experiments/list`,
    support: 'mapped',
    note: 'removed in MLflow 2.0; answers as search (older clients call it)',
  },
  { api: 'MLflow', methods: ['POST'], path: `${M}/experiments/update`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/experiments/delete`,
    support: 'supported',
    note: 'marks deleted (the Default experiment cannot be)',
  },
  { api: 'MLflow', methods: ['POST'], path: `${M}/experiments/restore`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/experiments/set-experiment-tag`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/experiments/delete-experiment-tag`,
    support: 'supported',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/create`,
    support: 'mapped',
    note: "a ferry run; user_id is the token's user, run_name or the mlflow.runName tag its name",
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/runs/get`,
    support: 'supported',
    note: 'latest value per metric: highest step, then newest',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/update`,
    support: 'supported',
    note: 'SCHEDULED is stored as RUNNING',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/delete`,
    support: 'supported',
    note: 'marks deleted; the data stays',
  },
  { api: 'MLflow', methods: ['POST'], path: `${M}/runs/restore`, support: 'supported', note: '' },
  { api: 'MLflow', methods: ['POST'], path: `${M}/runs/log-metric`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/log-parameter`,
    support: 'supported',
    note: 'a param is logged once',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/set-tag`,
    support: 'supported',
    note: 'mlflow.runName renames the run',
  },
  { api: 'MLflow', methods: ['POST'], path: `${M}/runs/delete-tag`, support: 'supported', note: '' },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/log-batch`,
    support: 'supported',
    note: 'one transaction; 1000 metrics, 100 params, 100 tags',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/search`,
    support: 'supported',
    note: 'metrics/params/tags/attributes with =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN joined by AND; order_by; run_view_type',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/metrics/get-history`,
    support: 'supported',
    note: 'paged by max_results/page_token',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/metrics/get-history-bulk-interval`,
    support: 'refused',
    note: '',
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/log-inputs`,
    support: 'refused',
    note: "datasets: ferry's POST /api/v1/runs inputs",
  },
  {
    api: 'MLflow',
    methods: ['POST'],
    path: `${M}/runs/log-model`,
    support: 'refused',
    note: 'register a version instead',
  },
  {
    api: 'MLflow',
    methods: ['GET'],
    path: `${M}/artifacts/list`,
    support: 'refused',
    note: 'ferry stores no run artifacts; models are versions',
  },
];

/** The matrix as the Markdown table docs/registry.md holds. */
export function renderCompatMatrix(): string {
  const lines = ['| API | Method | Path | Support | Notes |', '| --- | --- | --- | --- | --- |'];
  for (const row of COMPAT_MATRIX)
    lines.push(
      `| ${row.api} | ${row.methods.join(', ')} | \`${row.path}\` | ${row.support} | ${row.note.replace(/\|/g, '\\|')} |`,
    );
  return lines.join('\n');
}
