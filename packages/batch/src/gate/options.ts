import type { CallClass } from '@flf2v/core';
import { DEFAULT_PACE, type PaceConfig, type PaceSettings } from './pace.js';
import { DEFAULT_WINDOW, type WindowSettings } from './window.js';

/** The options every call gate takes (in process or shared through Redis); each one's default is on its field. */
export interface GateOptions extends Partial<PaceSettings>, Partial<WindowSettings> {
  /** Known limits in requests per minute, by class. */
  rpm?: Partial<Record<CallClass, number>>;
}

/** What a gate says about one class now: shared pace state and this process's window. */
export interface ClassSnapshot {
  /** Requests per second currently allowed (Infinity: unlimited). */
  ratePerSecond: number;
  knownRpm?: number;
  margin: number;
  /** No grant before this time (a 429's pause or the breaker's), ms of this process's clock. */
  pausedUntil: number;
  window: number;
  inFlight: number;
  waiting: number;
  rateLimited: number;
}

/** One of something per call class. */
export function byClass<T>(make: (cls: CallClass) => T): Record<CallClass, T> {
  return { upload: make('upload'), submit: make('submit'), query: make('query'), download: make('download') };
}

/** The pace settings of each class: defaults filled in, its known limit. */
export function paceConfigs(options: GateOptions): Record<CallClass, PaceConfig> {
  const shared: PaceSettings = { ...DEFAULT_PACE };
  for (const k of Object.keys(DEFAULT_PACE) as (keyof PaceSettings)[]) shared[k] = options[k] ?? shared[k];
  return byClass((cls): PaceConfig => ({ ...shared, knownRpm: options.rpm?.[cls] }));
}

/** The window and breaker settings, defaults filled in. */
export function windowSettings(options: GateOptions): WindowSettings {
  const o: WindowSettings = { ...DEFAULT_WINDOW };
  for (const k of Object.keys(DEFAULT_WINDOW) as (keyof WindowSettings)[]) o[k] = options[k] ?? o[k];
  return o;
}
