/*
 * The poller's HTTP routes (`run`): `GET /status`, the fleet's summary and a page of operations,
 * and `GET /status/servers`, every operation's state without the full reads. Every refused
 * parameter is a 400 `POLL_STATUS_QUERY_INVALID` with the reason.
 */
import {
  createRouter,
  HttpError,
  InputError,
  limitParser,
  route,
  serverParser,
  type Parser,
} from '@wolkvox-chat-stream/observability'
import type { PollerRuntime } from './runtime.js'
import type { PollerService } from './service.js'
import {
  OPERATION_STATES,
  readServerList,
  STATUS_MAX_LIMIT,
  type OperationState,
  type ServerList,
  type StatusPage,
  type StatusQuery,
} from './status.js'

/** An `offset`: a whole number from 0 (how many operations of the ordered list to skip). */
export const offsetParser: Parser<number> = (text) => {
  if (!/^[0-9]{1,9}$/u.test(text.trim()))
    throw new InputError('offset must be a whole number from 0 (the next page of page.next)')
  return Number(text)
}

/** A `state` filter: one state or a comma list of them (`failing,paused`). */
export const stateListParser: Parser<OperationState[]> = (text) => {
  const states = text.split(',').map((s) => s.trim())
  for (const state of states) {
    if (!(OPERATION_STATES as readonly string[]).includes(state))
      throw new InputError(
        `state ${JSON.stringify(state.slice(0, 64))} is not a state: give one or more of ${OPERATION_STATES.join(', ')}, separated by commas`,
      )
  }
  return [...new Set(states as OperationState[])]
}

/** Where the routes read from: the service's `status`, and the light list. */
export interface StatusSource {
  /** `GET /status`; null when `query.server` is not configured. */
  page(query: StatusQuery): Promise<StatusPage | null>
  /** `GET /status/servers`. */
  servers(query: { states?: OperationState[] }): Promise<ServerList>
}

/** The source of a `run` process: the service's `status`, and the list from the runtime's handles. */
export function pollerStatusSource(
  service: Pick<PollerService, 'status'>,
  runtime: Pick<PollerRuntime, 'config' | 'handle' | 'redis'>,
): StatusSource {
  const { config } = runtime
  return {
    page: (query) => service.status(query),
    servers: ({ states }) =>
      readServerList({
        handles: config.operations.map((operation) => runtime.handle(operation)),
        config,
        redis: runtime.redis,
        ...(states === undefined ? {} : { states }),
      }),
  }
}

/** The route handler of `/status` and `/status/servers` (the `routes` of `createHttpServer`). */
export function createStatusRouter(
  source: StatusSource,
): ReturnType<typeof createRouter<undefined>> {
  return createRouter<undefined>(
    [
      route<
        undefined,
        Record<string, never>,
        { server: string; state: OperationState[]; limit: number; offset: number }
      >({
        method: 'GET',
        path: '/status',
        query: {
          server: serverParser,
          state: stateListParser,
          limit: limitParser(STATUS_MAX_LIMIT),
          offset: offsetParser,
        },
        async handle({ query: { server, state, limit, offset } }) {
          const answer = await source.page({
            ...(server === undefined ? {} : { server }),
            ...(state === undefined ? {} : { states: state }),
            ...(limit === undefined ? {} : { limit }),
            ...(offset === undefined ? {} : { offset }),
          })
          if (answer === null)
            throw new HttpError(
              404,
              'POLL_OPERATION_NOT_FOUND',
              `This poller has no operation ${server}`,
            )
          return { status: 200, body: answer }
        },
      }),
      route<undefined, Record<string, never>, { state: OperationState[] }>({
        method: 'GET',
        path: '/status/servers',
        query: { state: stateListParser },
        async handle({ query: { state } }) {
          return {
            status: 200,
            body: await source.servers(state === undefined ? {} : { states: state }),
          }
        },
      }),
    ],
    { invalidCode: 'POLL_STATUS_QUERY_INVALID' },
  )
}
