import type { Client } from '@temporalio/client';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { BREAKER_STATE_ATTRIBUTE, BREAKER_WORKFLOW_TYPE, breakerWorkflowId } from './names';

/** Registers the `BreakerState` keyword search attribute (idempotent). */
export async function registerSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<void> {
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [BREAKER_STATE_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } catch (e) {
    if (!/already exists/i.test((e as Error).message)) throw e;
  }
}

/** Starts the breaker workflow of each name, leaving running ones as they are. */
export async function ensureBreakerWorkflows(client: Client, names: Iterable<string>, taskQueue: string): Promise<void> {
  for (const name of names) {
    await client.workflow.start(BREAKER_WORKFLOW_TYPE, {
      workflowId: breakerWorkflowId(name),
      taskQueue,
      args: [{ name }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }
}
