/*
 * The product's configuration as each service reads it, through the services' own readers: the
 * doctor parses nothing itself. A service whose configuration does not parse is reported, and the
 * later checks fall back to the defaults of what they need from it (its name, its topics).
 */
import type { Env } from '@wolkvox-chat-stream/config'
import { topics } from '@wolkvox-chat-stream/events'
import { readPollerConfig, type PollerConfig } from '@wolkvox-chat-stream/poller'
import { readConsumerConfig, type ConsumerServiceConfig } from '@wolkvox-chat-stream/service-kit'
import {
  readAggregatorConfig,
  SERVICE_NAME as SENTIMENT_NAME,
  type AggregatorConfig,
} from '@wolkvox-chat-stream/sentiment-aggregator'
import {
  readClassifierConfig,
  type ClassifierConfig,
} from '@wolkvox-chat-stream/tramite-classifier'
import { readQualityConfig, type QualityConfig } from '@wolkvox-chat-stream/chat-quality'
import { describeError, failed, passed, type CheckResult } from './result.js'

/** A service's configuration, or why it does not parse. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: unknown }

const parse = <T>(read: () => T): Parsed<T> => {
  try {
    return { ok: true, value: read() }
  } catch (error) {
    return { ok: false, error }
  }
}

/** Every service's configuration, read from one environment. */
export interface ProductConfig {
  poller: Parsed<Readonly<PollerConfig>>
  sentiment: Parsed<{ kit: Readonly<ConsumerServiceConfig>; own: Readonly<AggregatorConfig> }>
  classifier: Parsed<{ kit: Readonly<ConsumerServiceConfig>; own: Readonly<ClassifierConfig> }>
  quality: Parsed<{ kit: Readonly<ConsumerServiceConfig>; own: Readonly<QualityConfig> }>
}

/**
 * Reads the configuration of the poller and the three consumer services as each reads it at
 * start; a relative rules path is resolved from `cwd` (npm's `INIT_CWD`, as the services do).
 */
export function readProductConfig(env: Env, cwd: string): ProductConfig {
  const input = topics.chatMessage.name
  return {
    poller: parse(() => readPollerConfig(env)),
    sentiment: parse(() => ({
      own: readAggregatorConfig(env),
      kit: readConsumerConfig(env, { name: SENTIMENT_NAME, input, httpPort: 8082 }),
    })),
    classifier: parse(() => {
      const own = readClassifierConfig(env, cwd)
      return { own, kit: readConsumerConfig(env, { name: own.name, input, httpPort: 8083 }) }
    }),
    quality: parse(() => {
      const own = readQualityConfig(env, cwd)
      return { own, kit: readConsumerConfig(env, { name: own.name, input, httpPort: 8084 }) }
    }),
  }
}

/** The README section that documents each service's variables. */
const SECTIONS = {
  poller: 'README: The poller',
  'sentiment-aggregator': 'README: Sentiment aggregator',
  'tramite-classifier': 'README: Trámite classifier',
  'chat-quality': 'README: Chat quality',
} as const

/** Check 1: one line per service, `config <service>`. */
export function configChecks(config: ProductConfig): CheckResult[] {
  const line = (service: keyof typeof SECTIONS, parsed: Parsed<unknown>): CheckResult =>
    parsed.ok
      ? passed(`config ${service}`)
      : failed(
          `config ${service}`,
          describeError(parsed.error),
          `set each variable named as it says (${SECTIONS[service]})`,
        )
  return [
    line('poller', config.poller),
    line('sentiment-aggregator', config.sentiment),
    line('tramite-classifier', config.classifier),
    line('chat-quality', config.quality),
  ]
}

/** The names that decide topics, groups and principals: configured, else the defaults. */
export interface ServiceNames {
  sentiment: string
  classifier: string
  quality: string
  classifierOutput: string
  qualityOutput: string
  qualityTramites: string
  chatMessageVersion: 1 | 2
  sentimentVersion: 1 | 2
}

/** {@link ServiceNames} of a configuration, with the defaults where a service's does not parse. */
export function serviceNames(config: ProductConfig): ServiceNames {
  const classifier = config.classifier.ok ? config.classifier.value.own : undefined
  const quality = config.quality.ok ? config.quality.value.own : undefined
  return {
    sentiment: SENTIMENT_NAME,
    classifier: classifier?.name ?? 'tramite-classifier',
    quality: quality?.name ?? 'chat-quality',
    classifierOutput: classifier?.outputTopic ?? topics.chatTramite.name,
    qualityOutput: quality?.outputTopic ?? topics.chatQuality.name,
    qualityTramites: quality?.tramiteTopic ?? topics.chatTramite.name,
    chatMessageVersion: config.poller.ok ? config.poller.value.chatMessageVersion : 2,
    sentimentVersion: config.sentiment.ok ? config.sentiment.value.own.outputVersion : 2,
  }
}
