/** `20,971,521 bytes (20.0 MB)`: exact, because a limit is often missed by a few bytes. */
export function formatBytes(bytes: number): string {
  const exact = `${bytes.toLocaleString('en-US')} bytes`;
  return bytes < 1024 * 1024 ? exact : `${exact} (${(bytes / (1024 * 1024)).toFixed(1)} MB)`;
}
