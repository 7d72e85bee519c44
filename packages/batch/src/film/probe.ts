import { BatchError } from '../errors.js';
import { runTool, tail } from './tools.js';

/** What the film needs to know about one clip, from ffprobe. */
export interface ClipInfo {
  path: string;
  /** Seconds (the container's duration). */
  duration: number;
  video: {
    codec: string;
    width: number;
    height: number;
    pixFmt: string;
    /** As ffprobe writes it, e.g. `24/1`, `30000/1001`. */
    frameRate: string;
  };
  /** The first audio stream, if any. */
  audio?: { sampleRate: number; channelLayout: string };
  /**
   * Everything that must be equal for clips to be joined without re-encoding: per stream, in order, its type,
   * codec, profile, level, size, pixel format, colour description, field order, aspect, frame rate, time base,
   * sample format/rate, channel layout and the hash of its codec setup (`extradata`: SPS/PPS for H.264).
   */
  signature: string;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  color_range?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  field_order?: string;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  time_base?: string;
  sample_fmt?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  extradata_hash?: string;
  nb_frames?: string;
  nb_read_packets?: string;
}

interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string };
}

const SIGNATURE_FIELDS = [
  'codec_type',
  'codec_name',
  'profile',
  'level',
  'width',
  'height',
  'pix_fmt',
  'color_range',
  'color_space',
  'color_transfer',
  'color_primaries',
  'field_order',
  'sample_aspect_ratio',
  'r_frame_rate',
  'time_base',
  'sample_fmt',
  'sample_rate',
  'channels',
  'channel_layout',
  'extradata_hash',
] as const;

/**
 * Probe a clip with ffprobe (JSON output, every packet read but none decoded). Throws `E_CLIP_INVALID` naming
 * the clip when ffprobe cannot read it, it has no video stream or no duration, or it is cut short (fewer
 * packets than its index lists).
 */
export async function probeClip(ffprobe: string, path: string, signal?: AbortSignal): Promise<ClipInfo> {
  const out = await runTool(
    ffprobe,
    [
      ...['-v', 'error', '-count_packets', '-show_data_hash', 'sha256'],
      ...['-show_streams', '-show_format', '-of', 'json', path],
    ],
    signal,
  );
  const invalid = (why: string) => new BatchError('E_CLIP_INVALID', `${path} is not a usable video: ${why}`);
  if (out.code !== 0) throw invalid(`ffprobe cannot read it (${tail(out.stderr) || `exit ${out.code}`})`);
  let json: ProbeJson;
  try {
    json = JSON.parse(out.stdout) as ProbeJson;
  } catch {
    throw invalid('ffprobe answered something that is not JSON');
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  const duration = Number(json.format?.duration);
  if (!video?.width || !video.height || !video.codec_name) throw invalid('it has no video stream');
  if (!Number.isFinite(duration) || duration <= 0) throw invalid('it has no duration');
  for (const s of streams) {
    const listed = Number(s.nb_frames);
    const read = Number(s.nb_read_packets);
    if (Number.isFinite(listed) && Number.isFinite(read) && read < listed) {
      throw invalid(
        `it is cut short: ${read} of the ${listed} ${s.codec_type ?? ''} packets its index lists are in the file${out.stderr ? ` (${tail(out.stderr)})` : ''}`,
      );
    }
  }
  return {
    path,
    duration,
    video: {
      codec: video.codec_name,
      width: video.width,
      height: video.height,
      pixFmt: video.pix_fmt ?? 'unknown',
      frameRate: video.r_frame_rate ?? '25/1',
    },
    ...(audio
      ? {
          audio: {
            sampleRate: Number(audio.sample_rate) || 48_000,
            channelLayout: audio.channel_layout || 'stereo',
          },
        }
      : {}),
    signature: JSON.stringify(streams.map((s) => SIGNATURE_FIELDS.map((f) => s[f] ?? null))),
  };
}
