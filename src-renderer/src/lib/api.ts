/**
 * The renderer's only way to the service: a typed client of the contract (src-main/contract.ts,
 * types only). In Electron the preload exposes the same shape as `window.cnnStudio` (one function
 * per command plus `on`); in a browser it is built here over HTTP (`POST /api/<command>`) and the
 * event WebSocket (`/api/events`), with the per-start token from the page address.
 */
import type {
  CommandName, EventName, Events, RequestOf, ResponseOf, Result, ServiceErrorData,
} from '../../../src-main/contract/index.js';

export type {
  ClassMetrics, CompareResponse, DatasetInfo, EpochMetricsRow, EvaluationInfo, Events, HyperparameterInput, Hyperparameters,
  ImportProgressEvent, Misclassified, ModelSpec, Result, RunBatchEvent, RunDetail, RunEpochEvent, RunStatus,
  RunStatusEvent, RunSummary, ServiceErrorData, ShapeReport, SnapshotInfo, Thumbnail,
} from '../../../src-main/contract/index.js';

/** What window.cnnStudio provides in Electron, and what the web client below provides in a browser. */
export type StudioApi = {
  [C in CommandName]: (request: RequestOf<C>) => Promise<Result<ResponseOf<C>>>;
} & {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
};

declare global {
  interface Window {
    cnnStudio?: StudioApi;
  }
}

// The renderer imports only the contract's types, so it lists the commands itself; `satisfies`
// makes a command added to the contract and missing here a compile error.
const COMMAND_SET = {
  listDatasets: 1, getDataset: 1, importDataset: 1, cancelImport: 1, deleteDataset: 1, getThumbnails: 1, validateSpec: 1, templates: 1,
  startRun: 1, pauseRun: 1, resumeRun: 1, stopRun: 1, listRuns: 1, getRun: 1, forkRun: 1, compareRuns: 1, evaluateRun: 1,
  cancelEvaluation: 1, exportRun: 1, deleteRun: 1, updateRun: 1,
} satisfies Record<CommandName, 1>;
const COMMANDS = Object.keys(COMMAND_SET) as CommandName[];

const TOKEN_KEY = 'cnn-studio-token';

/** The token from ?token=… (kept for reloads in sessionStorage and taken out of the address bar). */
function pageToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** The browser transport. Events come over one WebSocket, reconnected with a growing delay. */
export function createWebApi(base: URL, token: string | null, onConnection: (state: ConnectionState) => void = () => {}): StudioApi {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let socket: WebSocket | null = null;
  let retryMs = 500;

  const connect = () => {
    const wsUrl = new URL('api/events', base);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) wsUrl.searchParams.set('token', token);
    onConnection('connecting');
    const ws = new WebSocket(wsUrl);
    socket = ws;
    ws.onopen = () => {
      retryMs = 500;
      onConnection('open');
    };
    ws.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: EventName; payload: unknown };
      for (const listener of listeners.get(event) ?? []) listener(payload);
    };
    ws.onclose = () => {
      socket = null;
      onConnection('closed');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };

  const call = async (command: CommandName, request: unknown): Promise<Result<unknown>> => {
    let response: Response;
    try {
      response = await fetch(new URL(`api/${command}`, base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(request ?? {}),
      });
    } catch (e) {
      return { ok: false, error: { code: 'internal', message: `cannot reach the studio service at ${base.origin} (${(e as Error).message}); is npm run web still running?` } };
    }
    try {
      return (await response.json()) as Result<unknown>;
    } catch {
      return { ok: false, error: { code: 'internal', message: `${command}: the service answered HTTP ${response.status} without JSON` } };
    }
  };

  const api: Record<string, unknown> = {};
  for (const command of COMMANDS) api[command] = (request: unknown) => call(command, request);
  api.on = (event: EventName, listener: (payload: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    if (!socket) connect();
    return () => void set!.delete(listener);
  };
  return api as StudioApi;
}

/** A command failed: carries the contract's error (code, message, detail). */
export class ApiError extends Error {
  constructor(readonly data: ServiceErrorData) {
    super(data.message);
    this.name = 'ApiError';
  }
  get code() {
    return this.data.code;
  }
}

export interface Client {
  /** Result as data: for callers that show refusals next to a field. */
  call<C extends CommandName>(command: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** The value, or throws ApiError with the service's one-line message. */
  get<C extends CommandName>(command: C, request: RequestOf<C>): Promise<ResponseOf<C>>;
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
  readonly transport: 'electron' | 'web';
  /** False in a browser opened without the token: every call will be refused. */
  readonly hasToken: boolean;
}

export function createClient(api: StudioApi, transport: 'electron' | 'web', hasToken: boolean): Client {
  const call = <C extends CommandName>(command: C, request: RequestOf<C>) =>
    (api[command] as (r: RequestOf<C>) => Promise<Result<ResponseOf<C>>>)(request);
  return {
    call,
    async get(command, request) {
      const result = await call(command, request);
      if (!result.ok) throw new ApiError(result.error);
      return result.value;
    },
    on: (event, listener) => api.on(event, listener),
    transport,
    hasToken,
  };
}

/** The error's one line for the UI. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

let connectionListener: (state: ConnectionState) => void = () => {};
/** The state layer shows the event connection; it registers here before the first subscription. */
export function onConnectionChange(listener: (state: ConnectionState) => void): void {
  connectionListener = listener;
}

function makeClient(): Client {
  if (typeof window !== 'undefined' && window.cnnStudio) return createClient(window.cnnStudio, 'electron', true);
  const token = pageToken();
  const base = new URL('./', window.location.href);
  base.search = '';
  base.hash = '';
  return createClient(createWebApi(base, token, (s) => connectionListener(s)), 'web', token !== null);
}

export const client: Client = makeClient();
