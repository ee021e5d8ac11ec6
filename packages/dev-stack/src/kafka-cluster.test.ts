import { describe, expect, it } from 'vitest'
import { serverProperties } from './kafka-broker.js'
import { brokersFromArgs, clusterProperties, kafkaNodesFromEnv } from './kafka-cluster.js'

const parse = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/su).slice(0, 2) as [string, string]),
  )

describe('serverProperties', () => {
  it('is a cluster of one by default: node 1, its own voter, every internal topic on one replica', () => {
    const props = parse(serverProperties({ port: 9092, controllerPort: 9093, dataDir: '/d' }))
    expect(props).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:9093',
      listeners: 'PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:9092',
      'default.replication.factor': '1',
      'offsets.topic.replication.factor': '1',
      'min.insync.replicas': '1',
    })
  })

  it('makes a node of a three-node cluster with the replication users run', () => {
    const voters = [1, 2, 3].map((nodeId) => ({ nodeId, controllerPort: 19000 + nodeId }))
    const props = parse(
      serverProperties({
        port: 9094,
        controllerPort: 19002,
        dataDir: '/d2',
        node: { nodeId: 2, voters },
        extra: clusterProperties(3),
      }),
    )
    expect(props).toMatchObject({
      'node.id': '2',
      'controller.quorum.voters': '1@127.0.0.1:19001,2@127.0.0.1:19002,3@127.0.0.1:19003',
      listeners: 'PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:19002',
      'log.dirs': '/d2',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
    })
  })
})

describe('clusterProperties', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 3, 2],
    [5, 3, 2],
  ])('%i nodes: replication factor %i, min.insync.replicas %i', (nodes, factor, minIsr) => {
    expect(clusterProperties(nodes)).toEqual({
      'default.replication.factor': factor,
      'min.insync.replicas': minIsr,
      'offsets.topic.replication.factor': factor,
      'transaction.state.log.replication.factor': factor,
      'transaction.state.log.min.isr': minIsr,
    })
  })
})

describe('the node count', () => {
  it('comes from --brokers, else KAFKA_NODES, else 1', () => {
    expect(brokersFromArgs([], {})).toBe(1)
    expect(brokersFromArgs([], { KAFKA_NODES: '3' })).toBe(3)
    expect(brokersFromArgs(['--brokers', '3'], { KAFKA_NODES: '1' })).toBe(3)
    expect(brokersFromArgs(['--brokers=2'], {})).toBe(2)
    expect(kafkaNodesFromEnv({})).toBe(1)
  })

  it.each([['--brokers'], ['--brokers', '0'], ['--brokers', 'three'], ['--brokers=10']])(
    'refuses %j',
    (...args) => {
      expect(() => brokersFromArgs(args, {})).toThrow(/--brokers takes a node count/)
    },
  )

  it('refuses a KAFKA_NODES that is not a small count', () => {
    expect(() => kafkaNodesFromEnv({ KAFKA_NODES: '0' })).toThrow(/KAFKA_NODES/)
  })
})
