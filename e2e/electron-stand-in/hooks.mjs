// Module resolution hook: `import … from 'electron'` gets the stand-in (see register.mjs).
const STAND_IN = new URL('./electron.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: STAND_IN, shortCircuit: true };
  return next(specifier, context);
}
