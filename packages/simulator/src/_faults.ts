import type { Prng } from './_prng.js';
import type { Endpoint, FaultKind, FaultRule } from './types.js';

export interface FaultDecision {
  /** Sum of the `slow` rules that fired. */
  delayMs: number;
  /** The first terminal rule that fired, if any. */
  fault: FaultRule | undefined;
}

/** Faults that make no sense for a video download (it has no JSON fields to drop). */
const NOT_FOR_DOWNLOAD: ReadonlySet<FaultKind> = new Set(['missing-fields']);

const NONE: FaultDecision = Object.freeze({ delayMs: 0, fault: undefined });

/**
 * Decides, per request, which configured faults fire: rules in order, each matching its endpoints, its
 * remaining `count` and its `probability` (one draw from the seeded stream, only for 0 < p < 1). `slow`
 * rules add up and evaluation goes on; the first other rule that fires ends it.
 */
export class FaultPlan {
  private rules: readonly FaultRule[] = [];
  private fired: number[] = [];

  constructor(
    rules: readonly FaultRule[],
    private readonly prng: Prng,
    private readonly onFault: (endpoint: Endpoint, kind: FaultKind) => void,
  ) {
    this.set(rules);
  }

  set(rules: readonly FaultRule[]): void {
    this.rules = rules;
    this.fired = rules.map(() => 0);
  }

  decide(endpoint: Endpoint): FaultDecision {
    if (this.rules.length === 0) return NONE;
    let delayMs = 0;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (!appliesTo(rule, endpoint)) continue;
      if (rule.count !== undefined && this.fired[i]! >= rule.count) continue;
      const p = rule.probability ?? 1;
      if (p <= 0 || (p < 1 && this.prng.next() >= p)) continue;
      this.fired[i]!++;
      this.onFault(endpoint, rule.kind);
      if (rule.kind === 'slow') {
        delayMs += rule.delayMs ?? 1000;
        continue;
      }
      return { delayMs, fault: rule };
    }
    return delayMs === 0 ? NONE : { delayMs, fault: undefined };
  }
}

function appliesTo(rule: FaultRule, endpoint: Endpoint): boolean {
  if (endpoint === 'download' && NOT_FOR_DOWNLOAD.has(rule.kind)) return false;
  const eps = rule.endpoints;
  if (eps === undefined) return true;
  return typeof eps === 'string' ? eps === endpoint : eps.includes(endpoint);
}
