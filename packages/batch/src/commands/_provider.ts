import { Flf2vError, isHttpUrl } from '@flf2v/core';
import type { Simulator } from '@flf2v/simulator';

export const DEFAULT_BASE_URL = 'https://cloud.baicaiinfer.com';

/** A key the embedded simulator accepts; it is not a secret and never leaves this machine. */
const SIMULATOR_KEY = 'sk-flf2v-embedded-simulator';

export interface ProviderConfig {
  apiKey: string;
  baseUrl: string;
  /** Set when running against the embedded simulator. */
  simulator?: Simulator;
  close(): Promise<void>;
}

export interface ProviderFlags {
  simulator?: boolean;
  simulatorConfig?: string;
}

export interface ProviderPlace {
  /**
   * Where the embedded simulator keeps the tasks it accepted, so that the next process (a resumed run) finds
   * them. Without it, the embedded simulator forgets its tasks when the process ends.
   */
  simulatorTaskFile?: string;
  /** Where the embedded simulator keeps uploaded frames, so their URLs stay valid for a resumed run. */
  simulatorUploadDir?: string;
  /**
   * For commands without `--simulator` (enqueue, worker, run --backend): a missing key's message tells how to
   * rehearse with a separate simulator process instead.
   */
  noSimulatorFlag?: boolean;
}

/**
 * Where requests go and with which key: the embedded simulator (`--simulator`), or the provider named by
 * BAICAI_BASE_URL with BAICAI_API_KEY. The key is read here, at the edge, and nowhere deeper.
 */
export async function resolveProvider(
  flags: ProviderFlags,
  env = process.env,
  place: ProviderPlace = {},
): Promise<ProviderConfig> {
  if (flags.simulator || flags.simulatorConfig) {
    // Loaded only for a rehearsal: a real run never loads the simulator.
    const { DEMO_PRESET, loadSimulatorConfig, startSimulator } = await import('@flf2v/simulator');
    const options = flags.simulatorConfig
      ? await loadSimulatorConfig(flags.simulatorConfig)
      : { ...DEMO_PRESET };
    const simulator = await startSimulator({
      ...options,
      port: 0,
      host: '127.0.0.1',
      ...(place.simulatorTaskFile === undefined ? {} : { taskFile: place.simulatorTaskFile }),
      ...(place.simulatorUploadDir === undefined ? {} : { uploadDir: place.simulatorUploadDir }),
    });
    return { apiKey: SIMULATOR_KEY, baseUrl: simulator.url, simulator, close: () => simulator.close() };
  }
  const apiKey = env.BAICAI_API_KEY?.trim();
  if (!apiKey) {
    throw new Flf2vError(
      'E_CONFIG',
      place.noSimulatorFlag
        ? 'BAICAI_API_KEY is not set: export your API key (sk-…). To rehearse without one: flf2v simulator --port 8787 in another terminal, then BAICAI_BASE_URL=http://127.0.0.1:8787 and BAICAI_API_KEY=sk-rehearsal for every producer and worker'
        : 'BAICAI_API_KEY is not set: export your API key (sk-…), or pass --simulator to rehearse against the local simulator',
      { retryable: false },
    );
  }
  const baseUrl = (env.BAICAI_BASE_URL?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!isHttpUrl(baseUrl)) {
    throw new Flf2vError(
      'E_CONFIG',
      `BAICAI_BASE_URL: expected an http(s) URL, got ${JSON.stringify(baseUrl)}`,
      {
        retryable: false,
      },
    );
  }
  return { apiKey, baseUrl, close: async () => {} };
}
