// The Temporal Web UI, driven by a real (headless) browser: a dev server started with the UI, one
// `temporal-breaker worker` process, the upstream simulator with a moralis outage, and a collector
// whose moralis activity waits (policy 'wait') behind the open circuit. Headless Chromium (Debian's
// chromium through playwright-core, never a download) then (a) lists the workflows filtered by
// BreakerState="open" and finds circuit-breaker:moralis, (b) opens that breaker workflow and reads
// its state there, (c) opens the collector and sees the CircuitOpenError on its pending activity.
// Screenshots land in test/artifacts/ (gitignored); the list one is also docs/ui-screenshot.png.
import { randomUUID } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServerExecutable, PROVISION_HINT } from '../../src/dev/executables';
import { freePort, portAnswers, spawnManaged, type ManagedProcess } from '../../src/demo/processes';
import { startSimulator, type Simulator } from '../../src/sim';
import { BREAKER_STATE_ATTRIBUTE, CIRCUIT_OPEN_ERROR_TYPE } from '../../src/temporal/names';
import { ARTIFACTS_DIR, launchChromium, screenshot } from '../helpers/browser';
import { repoRoot } from '../helpers/paths';
import { deploymentEnv, processExists, stopAllWorkers, WorkerProcess } from '../helpers/processes';
import { redisUrl } from '../helpers/redis';

const id = randomUUID().slice(0, 8);
const taskQueue = `ui-${id}`;
const keyPrefix = `ui-${id}:cb_state:`;
const collectorId = `collect-ui-${id}`;
const breakerId = 'circuit-breaker:moralis';
const startedAt = Date.now();
const UI_TIMEOUT = 30_000;

let server: ManagedProcess;
let address: string;
let uiUrl: string;
let connection: Connection;
let client: Client;
let sim: Simulator;
let worker: WorkerProcess;
let browser: Browser | undefined;
let page: Page;
const shots: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (server?.done()) throw new Error(`the Temporal dev server exited while waiting for ${what}: ${server.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** The dev server with the Web UI, from the provisioned Temporal CLI, on free ports. */
async function startDevServerWithUi(): Promise<void> {
  const resolved = resolveServerExecutable('dev-server');
  if (!resolved.executable) throw new Error(`this test needs the Temporal CLI (${resolved.description}). ${PROVISION_HINT}`);
  const [port, uiPort] = [await freePort(), await freePort()];
  server = await spawnManaged('temporal dev server', resolved.executable.path, [
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort),
    '--search-attribute', `${BREAKER_STATE_ATTRIBUTE}=Keyword`, '--log-level', 'warn',
  ]);
  address = `127.0.0.1:${port}`;
  uiUrl = `http://127.0.0.1:${uiPort}`;
  connection = await until('frontend', async () => {
    if (!(await portAnswers(port, '127.0.0.1'))) return undefined;
    const c = await Connection.connect({ address, connectTimeout: 2_000 });
    await c.workflowService.describeNamespace({ namespace: 'default' });
    return c;
  });
  client = new Client({ connection, namespace: 'default' });
  await until('Web UI', async () => ((await fetch(uiUrl)).ok ? true : undefined));
  console.info(`[ui] dev server ${address}, Web UI ${uiUrl} (${resolved.description}) in ${Date.now() - startedAt} ms`);
}

/** Saves the page's visible text next to its screenshot (what the assertions looked at). */
async function snapshot(name: string): Promise<string> {
  const path = await screenshot(page, name);
  writeFileSync(join(ARTIFACTS_DIR, `${name}.txt`), await page.locator('body').innerText());
  shots.push(path);
  return path;
}

/** The visible text of the page's main content. */
const mainText = () => page.locator('main').first().innerText();

beforeAll(async () => {
  [, sim] = await Promise.all([startDevServerWithUi(), startSimulator({ port: 0 })]);
  await sim.control.setFaults('moralis', { outage: true });
  worker = WorkerProcess.start('ui', {
    ...deploymentEnv({ temporalAddress: address, taskQueue, redisUrl: redisUrl(), keyPrefix, providers: sim.providers }),
    BREAKER_FAILURE_THRESHOLD: '3',
    // Open for two minutes: the circuit stays open for the whole test.
    BREAKER_TIMEOUT_SECONDS: '120',
  });
  await worker.ready();
  // One collector, moralis only, policy 'wait': three upstream failures open the circuit, then the
  // activity's retries are rejected with CircuitOpenError and it waits for the probe time.
  await client.workflow.start('onChainCollectorWorkflow', {
    taskQueue,
    workflowId: collectorId,
    args: [{ sources: ['moralis'], policy: { moralis: 'wait' }, maxCycles: 1 }],
  });
  // Ready for the browser once the server itself says so (visibility and pending activity).
  await until('BreakerState="open" in visibility', async () => {
    for await (const wf of client.workflow.list({ query: `${BREAKER_STATE_ATTRIBUTE}="open"` })) if (wf.workflowId === breakerId) return true;
    return undefined;
  });
  await until('a pending activity failed with CircuitOpenError', async () => {
    const d = await client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: collectorId } });
    const pending = d.pendingActivities ?? [];
    return pending.some((a) => a.lastFailure?.applicationFailureInfo?.type === CIRCUIT_OPEN_ERROR_TYPE) ? true : undefined;
  });
  console.info(`[ui] circuit open and collector waiting after ${Date.now() - startedAt} ms`);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.setDefaultTimeout(UI_TIMEOUT);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllWorkers();
  await sim?.close();
  await connection?.close();
  await server?.stop();
  if (worker) expect(processExists(worker.pid)).toBe(false);
  if (server) expect(processExists(server.pid)).toBe(false);
  console.info(`[ui] screenshots: ${shots.join(', ')}`);
  console.info(`[ui] file wall time ${Date.now() - startedAt} ms`);
});

describe('the Temporal Web UI in a real browser', () => {
  it('lists circuit-breaker:moralis under BreakerState="open"', async () => {
    const query = `${BREAKER_STATE_ATTRIBUTE}="open"`;
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    await page.locator(`text=${breakerId}`).first().waitFor();
    const path = await snapshot('ui-1-breakers-open');
    copyFileSync(path, join(repoRoot, 'docs/ui-screenshot.png'));
    const text = await page.locator('body').innerText();
    expect(text).toContain(breakerId);
    // Only the open breaker: the other providers' breakers are closed and filtered out.
    for (const p of ['glassnode', 'lunarcrush', 'reddit', 'twitter']) expect(text).not.toContain(`circuit-breaker:${p}`);
    expect(text).not.toContain(collectorId);
  });

  it('opens the breaker workflow and reads its state there: search attribute and memo say open', async () => {
    await page.locator(`a:has-text("${breakerId}")`).first().click();
    await page.waitForURL(/\/workflows\/circuit-breaker(:|%3A)moralis\//);
    await page.locator('text=circuitBreakerWorkflow').first().waitFor();

    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    await page.waitForURL(/\/search-attributes/);
    await page.locator(`text=${BREAKER_STATE_ATTRIBUTE}`).first().waitFor();
    await snapshot('ui-2-breaker-search-attributes');
    expect(await mainText()).toMatch(new RegExp(`"${BREAKER_STATE_ATTRIBUTE}":\\s*\\[\\s*"open"`));

    await page.getByRole('tab', { name: 'Memo' }).click();
    await page.waitForURL(/\/memo/);
    await page.locator('text=circuit_opens').first().waitFor();
    await snapshot('ui-3-breaker-memo');
    const memo = await mainText();
    expect(memo).toMatch(/"state":\s*"open"/);
    expect(memo).toMatch(/"forced":\s*false/);
    expect(memo).toMatch(/"circuit_opens":\s*1/);
  });

  it('opens the collector and sees the CircuitOpenError on its pending activity', async () => {
    const { runId } = await client.workflow.getHandle(collectorId).describe();
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(collectorId)}/${runId}/history`);
    await page.locator('text=onChainCollectorWorkflow').first().waitFor();
    await page.getByRole('tab', { name: /Pending Activities/ }).click();
    await page.waitForURL(/\/pending-activities/);
    await page.locator(`text=${CIRCUIT_OPEN_ERROR_TYPE}`).first().waitFor();
    await snapshot('ui-4-collector-pending-activity');
    const text = await mainText();
    expect(text).toContain('collectMoralis');
    expect(text).toContain('Last Failure');
    expect(text).toMatch(/"type":\s*"CircuitOpenError"/);
    expect(text).toContain("circuit 'moralis' is open");
  });
});
