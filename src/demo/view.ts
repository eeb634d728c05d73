/**
 * The demo's two outputs: a live terminal view redrawn about once a second (a TTY without
 * --plain), and plain lines, one per event (CI, pipes, --plain).
 */
import type { BreakerStatus } from '..';
import type { DemoEvent, EventFeed, Tally } from './feed';
import type { ScenarioProgress, ScenarioResult } from './scenarios';

export interface BreakerRow {
  status: BreakerStatus;
  /** Exact end of the open period (ms), null unless open and not forced. */
  openUntilMs: number | null;
}

export interface ViewModel {
  scenarioName: string;
  /** Process start (ms since epoch): every elapsed time counts from here. */
  commandStart: number;
  /** When the demo stops by itself (ms since epoch), if --duration. */
  stopsAt: number | null;
  temporalLine: string;
  storeLine: string;
  uiLines: string[];
  breakers: string[];
  rows: Map<string, BreakerRow>;
  tallies: Map<string, Tally>;
  progress: ScenarioProgress | null;
  result: ScenarioResult | null;
  commands: string[];
  /** The few commands shown when the terminal is too small for all of them. */
  compactCommands?: string[];
  feed: EventFeed;
}

const ESC = '\x1b[';
const color = (code: number, s: string, on: boolean) => (on ? `${ESC}${code}m${s}${ESC}0m` : s);
const bold = (s: string, on: boolean) => color(1, s, on);
const dim = (s: string, on: boolean) => color(2, s, on);
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** `[+ 12.3s]`: seconds since the command started. */
export function stamp(at: number, commandStart: number): string {
  return `[+${((at - commandStart) / 1000).toFixed(1).padStart(6)}s]`;
}

export function formatPlain(e: DemoEvent, commandStart: number): string {
  const who = e.kind === 'transition' ? `${e.breaker}:` : e.kind === 'demo' ? 'demo:' : `${e.kind}${e.breaker ? ` ${e.breaker}` : ''}:`;
  return `${stamp(e.at, commandStart)} ${who} ${e.text}`;
}

function stateCell(s: BreakerStatus, width: number, ansi: boolean): string {
  const label = (s.forced ? (width >= 14 ? `${s.state}(forced)` : 'forced') : s.state).padEnd(width);
  if (s.state === 'open') return color(31, label, ansi);
  if (s.state === 'half-open') return color(33, label, ansi);
  return color(32, label, ansi);
}

function nextProbe(row: BreakerRow, now: number, narrow: boolean): string {
  const s = row.status;
  if (s.state === 'open' && s.forced) return narrow ? 'held open' : 'none (forced open)';
  if (s.state === 'open' && row.openUntilMs !== null) {
    const left = Math.ceil((row.openUntilMs - now) / 1000);
    const at = new Date(row.openUntilMs).toISOString().slice(11, 19);
    if (narrow) return left > 0 ? `in ${left}s` : 'due';
    return left > 0 ? `in ${left}s (${at}Z)` : `due (${at}Z)`;
  }
  if (s.state === 'half-open') {
    return narrow ? `probe ${s.half_open.attempts}/${s.half_open.max_calls}` : `probing ${s.half_open.attempts}/${s.half_open.max_calls}, ok ${s.half_open.successes}/${s.half_open.success_threshold}`;
  }
  return '-';
}

interface Layout {
  columns: [string, number][];
  recoveries: (ok: number, failed: number) => string;
}

const WIDE: Layout = {
  columns: [['BREAKER', 11], ['STATE', 14], ['FAILURES', 9], ['OPENS', 6], ['RECOVERIES', 15], ['REJECTED', 9], ['HEALTH', 7], ['TIMEOUT', 8], ['NEXT PROBE', 0]],
  recoveries: (ok, failed) => `${ok} ok, ${failed} failed`,
};
/** Fits 80 columns. */
const NARROW: Layout = {
  columns: [['BREAKER', 10], ['STATE', 9], ['FAILS', 5], ['OPENS', 5], ['OK/FAILED', 9], ['REJ', 4], ['HEALTH', 6], ['TMO', 4], ['NEXT PROBE', 0]],
  recoveries: (ok, failed) => `${ok}/${failed}`,
};

/** The breaker table: state, failure count, opens, recoveries ok/failed, rejections, health, timeout, next probe. */
export function breakerTable(model: Pick<ViewModel, 'breakers' | 'rows' | 'tallies'>, now: number, ansi: boolean, width = 200): string[] {
  const layout = width >= 110 ? WIDE : NARROW;
  const w = layout.columns.map(([, n]) => n);
  const head = layout.columns.map(([h, n]) => h.padEnd(n)).join(' ').trimEnd();
  const lines = [bold(head, ansi)];
  for (const name of model.breakers) {
    const row = model.rows.get(name);
    if (!row) {
      lines.push(`${name.padEnd(w[0])} ${dim('(no status yet)', ansi)}`);
      continue;
    }
    const s = row.status;
    const t = model.tallies.get(name) ?? { rejected: 0, probes: 0 };
    const cells = [
      name.padEnd(w[0]),
      stateCell(s, w[1], ansi),
      `${s.failure_count}/${s.failure_threshold}`.padEnd(w[2]),
      String(s.statistics.circuit_opens).padEnd(w[3]),
      layout.recoveries(s.statistics.successful_recoveries, s.statistics.failed_recoveries).padEnd(w[4]),
      String(t.rejected).padEnd(w[5]),
      s.health_score.toFixed(3).padEnd(w[6]),
      `${s.timeout_seconds}s`.padEnd(w[7]),
      nextProbe(row, now, layout === NARROW),
    ];
    lines.push(cells.join(' '));
  }
  return lines;
}

function scenarioLine(model: ViewModel, now: number, ansi: boolean): string {
  const r = model.result;
  if (r?.outcome === 'complete') return `${bold('Scenario', ansi)}  '${model.scenarioName}' complete at +${((r.at - model.commandStart) / 1000).toFixed(1)}s; still running: try the commands below`;
  if (r?.outcome === 'failed') return `${bold('Scenario', ansi)}  ${color(31, `FAILED: ${r.reason}`, ansi)}`;
  const p = model.progress;
  if (!p) return `${bold('Scenario', ansi)}  '${model.scenarioName}' starting…`;
  return `${bold('Scenario', ansi)}  step ${p.index + 1}/${p.total} (${elapsed(now - p.startedAt)}): ${p.title}`;
}

function eventLine(e: DemoEvent, model: ViewModel, ansi: boolean): string {
  const t = elapsed(e.at - model.commandStart);
  const who = (e.kind === 'transition' ? (e.breaker ?? '') : e.kind).padEnd(10);
  const text = `${t} ${who} ${e.text}`;
  if (e.kind === 'error' || e.kind === 'warn') return color(e.kind === 'error' ? 31 : 33, text, ansi);
  if (e.kind === 'transition') return bold(text, ansi);
  return text;
}

const fit = (line: string, width: number) => {
  const plain = stripAnsi(line);
  return plain.length <= width ? line : plain.slice(0, Math.max(0, width - 1)) + '…';
};

/** One frame of the live view, sized to the terminal (events fill what the rest leaves). */
export function renderFrame(model: ViewModel, now: number, width: number, height: number, ansi = true): string[] {
  const running = now - model.commandStart;
  const until = model.stopsAt !== null ? `stops at ${elapsed(model.stopsAt - model.commandStart)}; ` : '';
  const rowsOf = (l: string) => Math.max(1, Math.ceil(stripAnsi(l).length / Math.max(20, width)));
  const rowsOfAll = (ls: string[]) => ls.reduce((n, l) => n + rowsOf(l), 0);
  const compose = (o: { allCommands: boolean; extraUi: boolean; spacing: boolean; events: number }) => {
    const gap = o.spacing ? [''] : [];
    const commands = o.allCommands ? model.commands : (model.compactCommands ?? model.commands.slice(0, 1));
    const title =
      width >= 100
        ? `${bold('temporal-circuit-breaker demo', ansi)} · scenario '${model.scenarioName}' · ${elapsed(running)} elapsed · ${until}Ctrl-C stops everything`
        : `${bold('breaker demo', ansi)} '${model.scenarioName}' · ${elapsed(running)} · ${until}Ctrl-C stops all`;
    const top = [
      title,
      model.temporalLine,
      model.storeLine,
      ...(o.extraUi ? model.uiLines : model.uiLines.slice(0, 1)),
      ...gap,
      ...breakerTable(model, now, ansi, width),
      ...gap,
      fit(scenarioLine(model, now, ansi), width),
    ];
    const header = o.allCommands ? 'From another terminal:' : 'From another terminal (force-close and reset work the same way):';
    const bottom = [...gap, bold(header, ansi), ...commands.map((c) => `  ${c}`)];
    const fixed = rowsOfAll([...top, ...bottom]) + 1 + (o.spacing ? 1 : 0); // + "Events:" (+ its gap)
    const n = Math.max(o.events, Math.min(12, height - 1 - fixed)); // one spare row keeps the terminal from scrolling
    const events = model.feed.recent(n).map((e) => fit(eventLine(e, model, ansi), width));
    const lines = [...top, ...gap, bold('Events:', ansi), ...events, ...bottom];
    return { lines, fits: rowsOfAll(lines) <= height - 1 };
  };
  // The roomiest layout that fits: drop the full command list, then the second UI line, then blank lines, then events.
  const layouts = [
    { allCommands: true, extraUi: true, spacing: true, events: 5 },
    { allCommands: false, extraUi: true, spacing: true, events: 3 },
    { allCommands: false, extraUi: false, spacing: true, events: 3 },
    { allCommands: false, extraUi: false, spacing: false, events: 3 },
    { allCommands: false, extraUi: false, spacing: false, events: 1 },
  ];
  for (const layout of layouts) {
    const frame = compose(layout);
    if (frame.fits) return frame.lines;
  }
  return compose(layouts[layouts.length - 1]).lines;
}

/** Redraws the frame in place (cursor home, overwrite, clear the rest). */
export class LiveView {
  private first = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly model: ViewModel,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  start(intervalMs = 1000): void {
    this.out.write(`${ESC}?25l`);
    this.draw();
    this.timer = setInterval(() => this.draw(), intervalMs);
  }

  draw(): void {
    const lines = renderFrame(this.model, Date.now(), this.out.columns ?? 120, this.out.rows ?? 40);
    const prefix = this.first ? `${ESC}2J${ESC}H` : `${ESC}H`;
    this.first = false;
    this.out.write(prefix + lines.map((l) => l + `${ESC}K`).join('\n') + `\n${ESC}J`);
  }

  /** Draws the last frame and leaves it on screen. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.first) this.draw();
    this.out.write(`${ESC}?25h`);
  }
}
