import type { Experiment } from '../../store/experiment-store.js';
import { RUN_STATUS_TO_MLFLOW } from '../../store/run-search.js';
import type { RunRecord } from '../../store/run-store.js';
import type { Metric } from '../../store/types.js';

/** MLflow's tracking JSON shapes (mlflow/protos/service.proto Run, RunInfo, Experiment, Metric). */

const ms = (iso: string | null) => (iso === null ? undefined : Date.parse(iso));
const pairs = (values: Readonly<Record<string, string>>) =>
  Object.entries(values).map(([key, value]) => ({ key, value }));

/** Where MLflow clients would put a run's artifacts; ferry stores none (artifacts/* is refused). */
export function artifactLocation(e: Pick<Experiment, 'id' | 'artifactLocation'>): string {
  return e.artifactLocation ?? `mlflow-artifacts:/${e.id}`;
}

export function mlflowExperiment(e: Experiment) {
  return {
    experiment_id: e.id,
    name: e.name,
    artifact_location: artifactLocation(e),
    lifecycle_stage: e.lifecycleStage,
    creation_time: ms(e.createdAt),
    last_update_time: ms(e.updatedAt),
    tags: pairs(e.tags),
  };
}

export function mlflowMetric(m: Metric) {
  return { key: m.key, value: m.value, timestamp: ms(m.time), step: m.step };
}

export function mlflowRunInfo(r: RunRecord, artifactRoot: string) {
  return {
    run_id: r.id,
    run_uuid: r.id,
    run_name: r.name,
    experiment_id: r.experimentId,
    user_id: r.createdBy,
    status: RUN_STATUS_TO_MLFLOW[r.status],
    start_time: ms(r.startTime),
    ...(r.endTime !== null && { end_time: ms(r.endTime) }),
    artifact_uri: `${artifactRoot}/${r.id}/artifacts`,
    lifecycle_stage: r.lifecycleStage,
  };
}

/** A run with its latest value per metric (highest step, then newest), as MLflow's RunData holds. */
export function mlflowRun(r: RunRecord, artifactRoot: string) {
  const latest = new Map<string, Metric>();
  for (const m of r.metrics) {
    const seen = latest.get(m.key);
    // MLflow's rule: highest step, then newest, then the largest value.
    if (
      !seen ||
      m.step > seen.step ||
      (m.step === seen.step && (m.time > seen.time || (m.time === seen.time && m.value > seen.value)))
    )
      latest.set(m.key, m);
  }
  return {
    info: mlflowRunInfo(r, artifactRoot),
    data: {
      metrics: [...latest.values()].map(mlflowMetric),
      params: pairs(r.params),
      // mlflow.runName is the run's name, whichever call set it last (runs/update run_name, set-tag).
      tags: [
        ...pairs(r.tags).filter((t) => t.key !== 'mlflow.runName'),
        { key: 'mlflow.runName', value: r.name },
      ],
    },
    inputs: { dataset_inputs: [] },
  };
}
