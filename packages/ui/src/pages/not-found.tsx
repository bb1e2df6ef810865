import { href } from '../router.js';

/** Any route the UI does not know: say so (the models list under a wrong address misled people, #25). */
export function NotFoundPage({ path }: { path: readonly string[] }) {
  return (
    <section class="not-found">
      <h1>Not found</h1>
      <p>
        The page <code class="wrap">#/{path.join('/')}</code> does not exist in this registry's UI.
      </p>
      <p>
        Go to the <a href={href.models()}>models</a>, the <a href={href.runs()}>runs</a> or the{' '}
        <a href={href.deployments()}>deployments</a>.
      </p>
    </section>
  );
}
