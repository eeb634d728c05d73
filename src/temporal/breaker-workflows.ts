import type { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { BREAKER_STATE_ATTRIBUTE, BREAKER_WORKFLOW_TYPE, breakerWorkflowId } from './names';

/** Registers the `BreakerState` keyword search attribute (idempotent). */
export async function registerSearchAttributes(connection: Pick<Connection, 'operatorService'> | Pick<NativeConnection, 'operatorService'>, namespace: string): Promise<void> {
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [BREAKER_STATE_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } catch (e) {
    if (!/already exists/i.test((e as Error).message)) throw e;
  }
}

/** How every breaker workflow is started (by the plugin, or by the first transition report). */
export function breakerWorkflowStart(name: string, taskQueue: string) {
  return {
    workflowId: breakerWorkflowId(name),
    taskQueue,
    args: [{ name }] as [{ name: string }],
    staticSummary: `Circuit breaker '${name}'`,
    staticDetails:
      `The breaker of '${name}', shared by every worker on task queue '${taskQueue}'. ` +
      'Signals forceOpen / forceClose / reset ({ reason }), query status, update command; its history is the audit log.',
  };
}

/** Starts the breaker workflow of each name, leaving running ones as they are. */
export async function ensureBreakerWorkflows(client: Client, names: Iterable<string>, taskQueue: string): Promise<void> {
  for (const name of names) {
    await client.workflow.start(BREAKER_WORKFLOW_TYPE, { ...breakerWorkflowStart(name, taskQueue), workflowIdConflictPolicy: 'USE_EXISTING' });
  }
}
