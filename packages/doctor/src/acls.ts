/*
 * Whether the ACLs a cluster describes give each product principal what its service needs
 * (`productAcls` of packages/dev-stack, the list the README's table is generated from). Pure:
 * the entries come from `admin.describeAcls`, read by the caller.
 */
import type { PrincipalAcls } from '@wolkvox-chat-stream/dev-stack'

/** One ACL as `describeAcls` lists it, flattened (kafkajs's numeric enums). */
export interface DescribedAcl {
  resourceType: number
  resourceName: string
  resourcePatternType: number
  principal: string
  host: string
  operation: number
  permissionType: number
}

// kafkajs's enums by value (types/index.d.ts): only packages/kafka imports kafkajs.
const RESOURCE = { TOPIC: 2, GROUP: 3 } as const
const PATTERN = { LITERAL: 3, PREFIXED: 4 } as const
const PERMISSION = { DENY: 2, ALLOW: 3 } as const
const OPERATION = {
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
} as const

/** The operations whose grant also allows `operation` (Kafka's implied DESCRIBE rules). */
function grantsOf(operation: keyof typeof OPERATION): number[] {
  const own = [OPERATION[operation], OPERATION.ALL]
  if (operation === 'DESCRIBE')
    return [...own, OPERATION.READ, OPERATION.WRITE, OPERATION.DELETE, OPERATION.ALTER]
  if (operation === 'DESCRIBE_CONFIGS') return [...own, OPERATION.ALTER_CONFIGS]
  return own
}

/** A grant the cluster does not give: principal, resource and the operations missing. */
export interface MissingAcl {
  principal: string
  resource: string
  operations: string[]
}

type Grant = PrincipalAcls['grants'][number]

/** Whether `acl` covers the resource of `grant` (a prefixed grant: every name it stands for). */
function covers(acl: DescribedAcl, grant: Grant): boolean {
  if (acl.resourceType !== RESOURCE[grant.resourceType]) return false
  if (acl.resourcePatternType === PATTERN.LITERAL) {
    return (
      acl.resourceName === '*' ||
      (grant.patternType === 'LITERAL' && acl.resourceName === grant.name)
    )
  }
  if (acl.resourcePatternType === PATTERN.PREFIXED) return grant.name.startsWith(acl.resourceName)
  return false
}

/**
 * The grants of `required` that `acls` do not give: an operation is given when an ALLOW entry for
 * the principal (or `User:*`), from any host, covers the resource with the operation, `ALL` or an
 * operation implying it, and no DENY entry covers it.
 */
export function missingAcls(
  required: readonly PrincipalAcls[],
  acls: readonly DescribedAcl[],
): MissingAcl[] {
  const out: MissingAcl[] = []
  for (const { principal, grants } of required) {
    const mine = acls.filter((a) => a.principal === principal || a.principal === 'User:*')
    for (const grant of grants) {
      const missing = grant.operations.filter((operation) => {
        const applicable = mine.filter(
          (a) => covers(a, grant) && grantsOf(operation).includes(a.operation),
        )
        const denied = applicable.some((a) => a.permissionType === PERMISSION.DENY)
        const allowed = applicable.some((a) => a.permissionType === PERMISSION.ALLOW)
        return denied || !allowed
      })
      if (missing.length > 0) {
        out.push({
          principal,
          resource: `${grant.resourceType.toLowerCase()} ${grant.name}${grant.patternType === 'PREFIXED' ? '*' : ''}`,
          operations: missing,
        })
      }
    }
  }
  return out
}

/** The `kafka-acls.sh` command that grants one missing row (the `--bootstrap-server` left out). */
export function grantCommand(missing: MissingAcl): string {
  const [kind, name = ''] = missing.resource.split(' ')
  const prefixed = name.endsWith('*')
  const resource = `--${kind} ${prefixed ? name.slice(0, -1) : name}${prefixed ? ' --resource-pattern-type prefixed' : ''}`
  const pascal = (o: string): string =>
    o
      .toLowerCase()
      .split('_')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')
  const ops = missing.operations.map((o) => `--operation ${pascal(o)}`).join(' ')
  return `kafka-acls.sh --add --allow-principal ${missing.principal} ${ops} ${resource}`
}
