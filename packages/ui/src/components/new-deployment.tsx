import { useState } from 'preact/hooks';
import { api, type Deployment, enc, type Model } from '../api.js';
import { useApi } from '../hooks.js';
import { ErrorBox } from './status.js';

/** The registry's rule for a deployment name (routes-deployments.ts DEPLOYMENT_NAME): the served model's name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Creates a deployment: serve models:/MODEL@ALIAS under NAME (PUT /api/v1/deployments/NAME). The
 * registry checks write access on the model and that the alias is a valid label; its answer is
 * shown as is. A server started with `ferry serve --registry` then picks the deployment up.
 */
export function NewDeployment({ onCreated }: { onCreated: (d: Deployment) => void }) {
  const models = useApi<{ models: Model[] }>('/api/v1/models?limit=1000');
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [alias, setAlias] = useState('prod');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const chosen = models.data?.models.find((m) => m.name === model);
  const nameProblem =
    name !== '' && !NAME.test(name)
      ? 'letters, digits, ".", "_" and "-", starting with a letter or digit (it is the served model name)'
      : '';
  return (
    <form
      class="filters new-deployment"
      onSubmit={async (e) => {
        e.preventDefault();
        setError(undefined);
        setBusy(true);
        try {
          const created = await api<Deployment>(`/api/v1/deployments/${enc(name)}`, {
            method: 'PUT',
            body: { model, alias },
          });
          onCreated(created);
          setName('');
        } catch (err) {
          setError(err as Error);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        Name
        <input
          name="deployment-name"
          value={name}
          required
          placeholder="mnist-prod"
          aria-invalid={nameProblem ? 'true' : undefined}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label>
        Model
        <select
          name="deployment-model"
          value={model}
          required
          onChange={(e) => setModel(e.currentTarget.value)}
        >
          <option value="">choose…</option>
          {(models.data?.models ?? []).map((m) => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Alias
        <input
          name="deployment-alias"
          value={alias}
          required
          list="deployment-aliases"
          onInput={(e) => setAlias(e.currentTarget.value)}
        />
        <datalist id="deployment-aliases">
          {Object.keys(chosen?.aliases ?? {}).map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </label>
      <button type="submit" class="primary" disabled={busy || !name || !model || !alias || !!nameProblem}>
        Create deployment
      </button>
      {nameProblem ? <p class="error">Name: {nameProblem}</p> : null}
      {chosen && alias && !(alias in chosen.aliases) ? (
        <p class="muted small">
          {model} has no alias {alias} yet: the deployment serves nothing until it is set.
        </p>
      ) : null}
      <ErrorBox error={error} />
    </form>
  );
}
