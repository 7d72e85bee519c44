import { showValue } from '@flf2v/core/rules';

/**
 * Takes: a shot generated again from the same request. Take 1 is the shot as first made; `take: 2` on a row (or
 * `flf2v run --retake ID`) asks for another generation of it. The take is part of the task's identity (see
 * `taskKey`) but is never sent.
 */

/** The highest take a manifest may name: a larger number is a typo, not a thousandth attempt. */
export const TAKE_MAX = 999;

/** A task's take: absent means 1 (every task planned before takes existed, and every first take). */
export function takeOf(task: { readonly take?: number }): number {
  return task.take ?? 1;
}

/** `{ take }` when the take is above 1, else nothing: how records and plans carry it. */
export function takeField(take: number): { take?: number } {
  return take > 1 ? { take } : {};
}

/** How people are told which take: `shot-02`, `shot-02 take 2`. */
export function shotName(task: { readonly id: string; readonly take?: number }): string {
  return takeOf(task) > 1 ? `${task.id} take ${takeOf(task)}` : task.id;
}

/** The file-name stem of a shot's take: `shot-02` (take 1), `shot-02~take2`. */
export function takeStem(id: string, take: number): string {
  return take > 1 ? `${id}~take${take}` : id;
}

export type TakeCheck = { ok: true; take: number } | { ok: false; message: string };

/** A whole number from 1 to `TAKE_MAX`, written as a number or as digits (a CSV cell). */
export function checkTake(value: unknown): TakeCheck {
  const text = typeof value === 'string' ? value.trim() : value;
  const n =
    typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isInteger(n) && n >= 1 && n <= TAKE_MAX) return { ok: true, take: n };
  return {
    ok: false,
    message: `expected a take number, a whole number from 1 to ${TAKE_MAX}, got ${showValue(value)}`,
  };
}
