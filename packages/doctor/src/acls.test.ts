import { describe, expect, it } from 'vitest'
import { productAcls, aclEntries, type PrincipalAcls } from '@wolkvox-chat-stream/dev-stack'
import { grantCommand, missingAcls, type DescribedAcl } from './acls.js'

/** The ACLs the dev stack grants, as describeAcls lists them. */
const granted = (acls: readonly PrincipalAcls[]): DescribedAcl[] =>
  aclEntries(acls).map((e) => ({
    resourceType: e.resourceType,
    resourceName: e.resourceName,
    resourcePatternType: e.resourcePatternType,
    principal: e.principal,
    host: e.host,
    operation: e.operation,
    permissionType: e.permissionType,
  }))

const poller = productAcls().slice(0, 1)

describe('missingAcls', () => {
  it('finds nothing missing when the product ACLs are granted', () => {
    expect(missingAcls(productAcls(), granted(productAcls()))).toEqual([])
  })

  it('names each principal, resource and operation missing', () => {
    const all = granted(poller)
    const withoutWrite = all.filter(
      (a) => !(a.resourceName === 'wolkvox.chat.message.v1' && a.operation === 4),
    )
    expect(missingAcls(poller, withoutWrite)).toEqual([
      {
        principal: 'User:poller',
        resource: 'topic wolkvox.chat.message.v1',
        operations: ['WRITE'],
      },
    ])
    expect(missingAcls(poller, [])).toHaveLength(4)
  })

  it('accepts ALL, User:*, a literal * and a covering prefix', () => {
    const broad: DescribedAcl[] = [
      {
        resourceType: 2,
        resourceName: 'wolkvox.',
        resourcePatternType: 4,
        principal: 'User:poller',
        host: '*',
        operation: 2,
        permissionType: 3,
      },
      {
        resourceType: 3,
        resourceName: '*',
        resourcePatternType: 3,
        principal: 'User:*',
        host: '*',
        operation: 2,
        permissionType: 3,
      },
    ]
    expect(missingAcls(poller, broad)).toEqual([])
  })

  it('takes DESCRIBE as implied by READ or WRITE', () => {
    const readOnly: DescribedAcl[] = [3, 10].map((operation) => ({
      resourceType: 2,
      resourceName: 'in',
      resourcePatternType: 3,
      principal: 'User:c',
      host: '*',
      operation,
      permissionType: 3,
    }))
    const need: PrincipalAcls[] = [
      {
        principal: 'User:c',
        grants: [
          {
            resourceType: 'TOPIC',
            name: 'in',
            patternType: 'LITERAL',
            operations: ['READ', 'DESCRIBE', 'DESCRIBE_CONFIGS'],
          },
        ],
      },
    ]
    expect(missingAcls(need, readOnly)).toEqual([])
  })

  it('counts a DENY over an ALLOW as missing', () => {
    const deny = { ...granted(poller)[0]!, permissionType: 2 }
    expect(missingAcls(poller, [...granted(poller), deny])).toEqual([
      { principal: 'User:poller', resource: `topic ${deny.resourceName}`, operations: ['CREATE'] },
    ])
  })

  it('does not let a prefixed grant stand for a wider prefix', () => {
    const narrow: DescribedAcl[] = granted(poller).map((a) =>
      a.resourcePatternType === 4 ? { ...a, resourceName: 'wolkvox-reader-x' } : a,
    )
    expect(missingAcls(poller, narrow)).toEqual([
      {
        principal: 'User:poller',
        resource: 'group wolkvox-reader-*',
        operations: ['READ', 'DELETE'],
      },
    ])
  })
})

describe('grantCommand', () => {
  it('writes the kafka-acls.sh command of a row', () => {
    expect(
      grantCommand({
        principal: 'User:poller',
        resource: 'group wolkvox-reader-*',
        operations: ['READ', 'DESCRIBE_CONFIGS'],
      }),
    ).toBe(
      'kafka-acls.sh --add --allow-principal User:poller --operation Read --operation DescribeConfigs --group wolkvox-reader- --resource-pattern-type prefixed',
    )
  })
})
