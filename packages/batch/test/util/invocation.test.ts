import { describe, expect, it } from 'vitest';
import { invokedAs } from '../../src/util/invocation.js';

const PNPM = 'pnpm/10.34.8 npm/? node/v20.20.2 linux x64';
const NPM = 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false';

describe('how the user started flf2v (for the resume hint)', () => {
  it('names the package manager that ran the bin', () => {
    expect(invokedAs({ npm_command: 'exec', npm_config_user_agent: PNPM })).toBe('pnpm exec flf2v');
    expect(invokedAs({ npm_command: 'run-script', npm_config_user_agent: PNPM })).toBe('pnpm exec flf2v');
    expect(invokedAs({ npm_command: 'exec', npm_config_user_agent: NPM, npm_lifecycle_event: 'npx' })).toBe(
      'npx flf2v',
    );
    expect(invokedAs({ npm_command: 'exec', npm_config_user_agent: 'yarn/4.5.0 npm/? node/v20' })).toBe(
      'yarn flf2v',
    );
  });

  it('falls back to flf2v when it was run directly, or by a manager it does not know', () => {
    expect(invokedAs({})).toBe('flf2v');
    expect(invokedAs({ npm_config_user_agent: PNPM })).toBe('flf2v');
    expect(invokedAs({ npm_command: 'exec', npm_config_user_agent: 'bun/1.1' })).toBe('flf2v');
  });
});
