/** Storage errors name the file and the byte position (STYLE.md, "Errors"). */
export class CorruptSegmentError extends Error {
  readonly code = 'CORRUPT_SEGMENT';
  constructor(
    readonly segment: string,
    readonly position: number,
    readonly problem: string,
  ) {
    super(`corrupt entry in segment ${segment} at byte ${position}: ${problem}`);
    this.name = 'CorruptSegmentError';
  }
}
