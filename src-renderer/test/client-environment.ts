/**
 * A vitest environment for the renderer's state classes: plain Node globals, but modules are
 * transformed for the browser (Vite's client environment), so Svelte compiles runes with client
 * reactivity ($effect runs, $derived tracks) instead of the server's one-shot rendering.
 */
import type { Environment } from 'vitest/environments';

export default {
  name: 'svelte-client',
  viteEnvironment: 'client',
  setup: () => ({ teardown: () => {} }),
} satisfies Environment;
