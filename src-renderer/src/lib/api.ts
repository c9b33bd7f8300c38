/**
 * The renderer's only way to the service: a client of the contract (src-main/contract, pure
 * TypeScript). The Electron preload exposes the contract's `StudioApi` as `window.cnnStudio`; in a
 * browser `createWebApi` builds the same shape over HTTP (`POST /api/<command>`) and the event
 * WebSocket (`/api/events`), one function per name in the contract's COMMAND_NAMES.
 *
 * Nothing here runs at import time: `connect.ts` picks the transport once in main.ts, and the state
 * classes get the resulting Client in their constructors (tests give them a fake one).
 */
import {
  COMMAND_NAMES, type CommandName, type EventName, type Events, type RequestOf, type ResponseOf, type Result, type ServiceErrorData, type StudioApi,
} from '../../../src-main/contract/index.js';

export type {
  ClassMetrics, CompareResponse, EvaluatedImage, EvaluationImagesResponse, FeatureMapsResponse, FiltersResponse, ImageInput, PredictResponse, StepThroughResponse, DatasetInfo, EpochMetricsRow, EvaluationInfo, Events, ExportRunResponse, HyperparameterField, HyperparameterInput,
  Hyperparameters, ImportDatasetResponse, ImportProgressEvent, Misclassified, ModelSpec, Result, RunBatchEvent, RunDetail, RunEpochEvent, RunStatus,
  RunStatusEvent, RunSummary, ServiceErrorData, ShapeReport, SnapshotInfo, StudioApi, Thumbnail,
} from '../../../src-main/contract/index.js';

declare global {
  interface Window {
    cnnStudio?: StudioApi;
  }
}

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** What the page can ask of a transport's event stream: try again now instead of at the next retry. */
export interface StreamControl {
  retryNow?: () => void;
}

/**
 * The browser transport. Events come over one WebSocket, reconnected with a growing delay (at
 * most 10 s); `control.retryNow` is filled in to reconnect at once (the banner's button).
 */
export function createWebApi(base: URL, token: string | null, onConnection: (state: ConnectionState) => void = () => {}, control: StreamControl = {}): StudioApi {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let socket: WebSocket | null = null;
  let retryMs = 500;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;

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
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10_000);
    };
  };
  control.retryNow = () => {
    if (socket) return; // connected or connecting already
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    retryMs = 500;
    connect();
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
  for (const command of COMMAND_NAMES) api[command] = (request: unknown) => call(command, request);
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
  /** The event stream's state, now and on every change (events sent while it was down are lost). */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Reconnect the event stream now rather than at its next retry. */
  reconnect(): void;
  readonly transport: 'electron' | 'web';
  /** False in a browser opened without the token: every call will be refused. */
  readonly hasToken: boolean;
}

/** Keeps the last connection state and tells it to every listener, including late ones. */
export class ConnectionRelay {
  private state: ConnectionState;
  private readonly listeners = new Set<(state: ConnectionState) => void>();

  constructor(initial: ConnectionState, readonly retry: () => void = () => {}) {
    this.state = initial;
  }

  set(state: ConnectionState): void {
    this.state = state;
    for (const l of this.listeners) l(state);
  }

  listen(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => void this.listeners.delete(listener);
  }
}

export function createClient(api: StudioApi, options: { transport: 'electron' | 'web'; hasToken: boolean; connection?: ConnectionRelay }): Client {
  const call = <C extends CommandName>(command: C, request: RequestOf<C>) =>
    (api[command] as (r: RequestOf<C>) => Promise<Result<ResponseOf<C>>>)(request);
  const connection = options.connection ?? new ConnectionRelay('open');
  return {
    call,
    async get(command, request) {
      const result = await call(command, request);
      if (!result.ok) throw new ApiError(result.error);
      return result.value;
    },
    on: (event, listener) => api.on(event, listener),
    onConnection: (listener) => connection.listen(listener),
    reconnect: () => connection.retry(),
    transport: options.transport,
    hasToken: options.hasToken,
  };
}

/** The error's one line for the UI. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
