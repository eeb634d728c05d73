export interface DemoOptions {
  duration?: number;
  scenario: string;
  ui: boolean;
  plain?: boolean;
}

export async function runDemo(_opts: DemoOptions): Promise<void> {
  console.log('The demo arrives with a later change (see the README). Meanwhile: `temporal-breaker worker`.');
}
