/**
 * A stand-in for the service behind the renderer's real Client (createClient): each command
 * answers what the test says (a value, a refusal, or a promise the test settles later), every call
 * is recorded, and the test emits events and connection changes as the transport would.
 */
import {
  COMMAND_NAMES, type CommandName, type EventName, type Events, type RequestOf, type ResponseOf, type Result, type ServiceErrorData, type StudioApi,
} from '../../src-main/contract/index.js';
import { ConnectionRelay, createClient, type Client, type ConnectionState } from '../src/lib/api.js';

type Answer<C extends CommandName> = (request: RequestOf<C>) => Result<ResponseOf<C>> | Promise<Result<ResponseOf<C>>>;

export class FakeService {
  readonly calls: { command: CommandName; request: unknown }[] = [];
  readonly client: Client;
  private readonly answers = new Map<CommandName, Answer<CommandName>>();
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  private readonly connection = new ConnectionRelay('connecting');

  constructor() {
    const api: Record<string, unknown> = {};
    for (const command of COMMAND_NAMES) {
      api[command] = async (request: unknown) => {
        this.calls.push({ command, request });
        const answer = this.answers.get(command);
        if (!answer) return { ok: false, error: { code: 'internal', message: `the fake service has no answer for ${command}` } };
        return answer(request as never);
      };
    }
    api.on = (event: EventName, listener: (payload: unknown) => void) => {
      let set = this.listeners.get(event);
      if (!set) this.listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => void set!.delete(listener);
    };
    this.client = createClient(api as StudioApi, { transport: 'web', hasToken: true, connection: this.connection });
  }

  /** Every call of `command` answers this value (or what the function returns for the request). */
  answer<C extends CommandName>(command: C, value: ResponseOf<C> | ((request: RequestOf<C>) => ResponseOf<C> | Promise<ResponseOf<C>>)): void {
    this.answers.set(command, (async (request: RequestOf<C>) => ({
      ok: true, value: typeof value === 'function' ? await (value as (r: RequestOf<C>) => ResponseOf<C>)(request) : value,
    })) as Answer<CommandName>);
  }

  /** Every call of `command` is refused with this error. */
  refuse(command: CommandName, error: ServiceErrorData): void {
    this.answers.set(command, () => ({ ok: false, error }));
  }

  /** The next calls of `command` wait until the test settles the returned handle. */
  hold<C extends CommandName>(command: C): Held<C> {
    const held = new Held<C>();
    this.answers.set(command, ((request: RequestOf<C>) => held.take(request)) as Answer<CommandName>);
    return held;
  }

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) l(payload);
  }

  setConnection(state: ConnectionState): void {
    this.connection.set(state);
  }

  requestsOf<C extends CommandName>(command: C): RequestOf<C>[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.request as RequestOf<C>);
  }
}

/** Calls waiting for an answer: resolve or refuse them, in order. */
export class Held<C extends CommandName> {
  private readonly waiting: { request: RequestOf<C>; settle: (r: Result<ResponseOf<C>>) => void }[] = [];

  take(request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
    return new Promise((settle) => this.waiting.push({ request, settle }));
  }

  get pending(): number {
    return this.waiting.length;
  }

  get request(): RequestOf<C> {
    const first = this.waiting[0];
    if (!first) throw new Error('no call is waiting');
    return first.request;
  }

  resolve(value: ResponseOf<C>): void {
    this.next().settle({ ok: true, value });
  }

  refuse(error: ServiceErrorData): void {
    this.next().settle({ ok: false, error });
  }

  private next() {
    const first = this.waiting.shift();
    if (!first) throw new Error('no call is waiting');
    return first;
  }
}

/** Lets every settled promise's continuations run (the states' awaits chain a few deep). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
