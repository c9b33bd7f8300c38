/**
 * The typed contract between the service and its transports (Electron IPC, HTTP + WebSocket, CLI)
 * and the renderer: the command map (requests as schemas), the responses and events, and the
 * hyperparameter table. Pure TypeScript: the renderer imports it too.
 */
export * from './types.js';
export * from './commands.js';
export * from './hyperparameters.js';
export * from './run-query.js';
export * from './tables.js';
export { csvCell, csvTable } from './csv.js';
export { RequestError } from './schema.js';
