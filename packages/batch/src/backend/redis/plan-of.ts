import { extname } from 'node:path';
import type { FrameRef, PlannedTask } from '../../manifest/types.js';
import type { FrameRecord } from '../../state/records.js';
import type { TaskState } from '../../state/run-state.js';

/**
 * The plan of a task as its `planned` record says (a worker has no manifest): enough for the stages — the
 * parameters, and each frame's URL or its copy in the run directory (`DIR/frames/<sha256>.<png|jpg>`).
 */
export function planOf(task: TaskState): PlannedTask {
  return {
    id: task.id,
    key: task.key,
    params: task.params,
    image: frameOf(task.image),
    last_image: frameOf(task.last_image),
    source: { file: 'redis' },
  };
}

function frameOf(record: FrameRecord): FrameRef {
  if (record.url !== undefined || record.path === undefined || record.sha256 === undefined) {
    return { kind: 'url', url: record.url ?? record.display };
  }
  return {
    kind: 'file',
    path: record.path,
    display: record.display,
    sha256: record.sha256,
    format: extname(record.path).toLowerCase() === '.png' ? 'png' : 'jpeg',
    // Measured when planned; the stages do not need them again.
    bytes: 0,
    width: 0,
    height: 0,
  };
}
