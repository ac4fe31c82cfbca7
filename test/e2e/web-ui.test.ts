/// <reference lib="dom" />
// Issue 16 in a real headless Chromium (the system's, driven by playwright-core): the grid marks a
// cache hit and not a run, a cell opens the task panel with the reason, the cache page shows the
// stats, and the page follows a run a scheduler is working on. Screenshots go to test-output/web-ui/.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApiServer, type RunningServer } from '../helpers/api-server.js';
import { REPO, TempHome } from '../helpers/cli.js';

const TOKEN = 'ui-token';
const SHOTS = join(REPO, 'test-output', 'web-ui');
const CHROMIUM = [
  process.env.MINIFLOW_TEST_CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
]
  .filter((p): p is string => Boolean(p))
  .find((p) => existsSync(p));

if (!CHROMIUM)
  process.stdout.write(
    'SKIPPED: web UI browser tests: no Chromium binary (apt-get install chromium, or set MINIFLOW_TEST_CHROMIUM)\n',
  );
const describeWithBrowser = CHROMIUM ? describe : describe.skip;

const cell = (page: Page, taskId: string, runId: string) =>
  page.locator(`a.cell[aria-label^="${taskId} in ${runId}:"]`);

describeWithBrowser('the web UI in a browser', () => {
  const h = new TempHome();
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let scheduler: ChildProcess | null = null;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    h.writeDag({
      dag_id: 'web_demo',
      description: 'two cached tasks and one that always runs',
      default_args: { cache: true, retries: 0 },
      tasks: [
        {
          task_id: 'extract',
          task_type: 'BashOperator',
          bash_command: 'sleep 0.3; echo 3,1,4',
          downstream_task_ids: ['load'],
        },
        {
          task_id: 'load',
          task_type: 'BashOperator',
          bash_command: 'sleep 0.3; echo loaded',
          downstream_task_ids: ['report'],
        },
        { task_id: 'report', task_type: 'BashOperator', bash_command: 'echo report', cache: false },
      ],
    });
    h.writeDag({
      dag_id: 'slow_dag',
      tasks: [{ task_id: 'slow', task_type: 'BashOperator', bash_command: 'sleep 6; echo done' }],
    });
    for (const runId of ['first', 'second'])
      expect(h.run(['dags', 'test', 'web_demo', '2026-01-01', '--run-id', runId]).code).toBe(0);
    server = await startApiServer(h, { AIRFLOW__API__AUTH_TOKEN: TOKEN });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    scheduler?.kill('SIGTERM');
    await browser?.close();
    await server?.stop();
  });

  test('the grid marks the cached cell as a hit and the cell that ran as not', async () => {
    await page.goto(`${server.url}/dags/web_demo/grid`);
    const hit = cell(page, 'extract', 'second');
    const ran = cell(page, 'extract', 'first');
    await hit.waitFor();
    await expectLabel(hit, /extract in second: success, cache hit from run first/);
    await expectLabel(ran, /extract in first: success, ran \(cache miss\)/);
    expect(await hit.locator('.hit-mark').count()).toBe(1);
    expect(await ran.locator('.hit-mark').count()).toBe(0);
    // The uncached task ran in both runs: no mark there either.
    expect(await cell(page, 'report', 'second').locator('.hit-mark').count()).toBe(0);
    await shot('grid');
  });

  test('clicking a cell opens the task panel with the cache reason and the producing run', async () => {
    await cell(page, 'load', 'second').click();
    await page.waitForURL(/\/dags\/web_demo\/runs\/second\/tasks\/load$/);
    const reason = page.getByTestId('cache-reason');
    await reason.waitFor();
    expect(await reason.textContent()).toMatch(/from run first \(try 1\), saved/);
    expect(await page.getByTestId('cache-decision').textContent()).toBe('hit');
    expect(await page.getByRole('link', { name: 'first', exact: true }).getAttribute('href')).toBe(
      '/dags/web_demo/runs/first/tasks/load',
    );
    await page.locator('pre.log', { hasText: 'Cache hit: no process was started' }).waitFor();
    await shot('task-panel');
  });

  test('the graph marks hits on its nodes, with labels', async () => {
    await page.goto(`${server.url}/dags/web_demo/graph`);
    const node = page.locator('g.node[aria-label^="extract in second:"]');
    await node.waitFor();
    expect(await node.getAttribute('aria-label')).toContain('cache hit');
    expect(await node.locator('.hit-dot').count()).toBe(1);
    expect(await page.locator('line.edge').count()).toBe(2);
  });

  test('the cache page shows hit rate, time saved per DAG and the hits/misses chart', async () => {
    await page.goto(`${server.url}/cache`);
    const rate = page.getByTestId('hit-rate');
    await rate.waitFor();
    expect(await rate.textContent()).toBe('hit rate 50.0%');
    expect(await page.getByTestId('time-saved').textContent()).toMatch(/^\d+\.\d{3}s saved$/);
    const row = page.locator('table.per-dag tbody tr', { hasText: 'web_demo' });
    expect(await row.locator('td').nth(1).textContent()).toBe('50.0%');
    expect(await page.locator('figure.chart svg[role="img"]').getAttribute('aria-label')).toContain(
      '2 hits and 2 misses',
    );
    expect(await page.locator('table.entries tbody tr').count()).toBe(2);
    await shot('cache');
  });

  test('a run triggered from the UI with the token is followed live while a scheduler runs it', async () => {
    await page.goto(`${server.url}/dags/slow_dag/grid`);
    await page.getByRole('button', { name: 'Trigger slow_dag' }).click();
    // No token yet: the API refuses, and the UI says why.
    await page.locator('[role="status"]', { hasText: 'auth_token' }).waitFor();
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', { name: 'Trigger slow_dag' }).click();
    await page.locator('[role="status"]', { hasText: 'Queued run' }).waitFor();
    const slow = page.locator('a.cell[aria-label^="slow in manual__"]');
    await slow.waitFor();
    expect(await slow.getAttribute('data-state')).toBe('none');
    scheduler = h.start(['scheduler']);
    // The same page, never reloaded: the cell turns running, then success.
    await page.locator('a.cell[aria-label^="slow in manual__"][data-state="running"]').waitFor({ timeout: 90_000 });
    await shot('live-running');
    await page.locator('a.cell[aria-label^="slow in manual__"][data-state="success"]').waitFor({ timeout: 90_000 });
  }, 200_000);

  test('a run triggered from the DAG list is served from the cache, and the grid shows it', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Trigger web_demo' }).click();
    await page.locator('[role="status"]', { hasText: 'Queued run' }).waitFor();
    await page.getByRole('link', { name: 'web_demo', exact: true }).click();
    const fresh = page.locator('a.cell[aria-label^="load in manual__"]');
    await page.locator('a.cell[aria-label^="load in manual__"][data-state="success"]').waitFor({ timeout: 90_000 });
    await expectLabel(fresh, /cache hit from run first/);
    expect(await fresh.locator('.hit-mark').count()).toBe(1);
    await shot('grid-after-ui-trigger');
  }, 200_000);

  test('readable at phone width: the grid fits with its labels', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/dags/web_demo/grid`);
    await cell(page, 'extract', 'second').waitFor();
    expect(await page.getByRole('heading', { name: 'web_demo' }).isVisible()).toBe(true);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('grid-phone');
  });
});

async function expectLabel(loc: ReturnType<Page['locator']>, re: RegExp): Promise<void> {
  expect(await loc.getAttribute('aria-label')).toMatch(re);
}
