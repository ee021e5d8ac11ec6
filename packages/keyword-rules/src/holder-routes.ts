/*
 * The HTTP routes of a service's rules: `GET /rules` (the rules in force) and `POST /rules/reload`
 * (a refused file answers 400 with its code; the rules in force stay).
 */
import { isAppError } from '@wolkvox-chat-stream/errors'
import { HttpError, route, type Route } from '@wolkvox-chat-stream/observability'
import type { RulesHolder } from './holder.js'

/** The two routes; `listName` is the answer's name for the rules (`tramites`, `checks`). */
export function rulesRoutes<C>(rules: RulesHolder, listName: string): Route<C, unknown, unknown>[] {
  return [
    route<C>({
      method: 'GET',
      path: '/rules',
      handle() {
        const { version, file, loadedAt, ruleSet } = rules.current
        return {
          status: 200,
          body: {
            version,
            file,
            loaded_at: loadedAt.toISOString(),
            [listName]: ruleSet.tramites,
          },
        }
      },
    }),
    route<C>({
      method: 'POST',
      path: '/rules/reload',
      handle() {
        try {
          const { version, previous_version } = rules.reload('http')
          return { status: 200, body: { version, previous_version } }
        } catch (error) {
          if (!isAppError(error)) throw error
          throw new HttpError(400, error.code, error.message)
        }
      },
    }),
  ]
}
