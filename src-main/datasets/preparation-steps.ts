/**
 * The words for what was done to an image on its way to a model's input, in one place: the
 * studio's preparation (prepare-image.ts, with sharp) and the exported page's (export/html/page,
 * with the browser's canvas) say the same thing for the same step.
 */
export const channelWords = (c: number, alpha: boolean) => `${c === 1 || c === 2 ? 'gray' : 'colour'}${alpha ? ' with alpha' : ''}`;

export const PREPARATION_STEPS = {
  decoded: (format: string, width: number, height: number, channels: number, alpha: boolean) => `decoded ${format.toUpperCase()} ${width}×${height}, ${channelWords(channels, alpha)}`,
  drawn: (width: number, height: number, channels: number) => `drawn ${width}×${height}, ${channelWords(channels, false)}`,
  flattened: 'flattened the alpha onto black',
  resized: (width: number, height: number, outW: number, outH: number) => `resized ${width}×${height} → ${outW}×${outH} (stretched, as the import resizes)`,
  kept: (outW: number, outH: number) => `kept at ${outW}×${outH} (the model's input size)`,
  takenAsGray: 'its red, green and blue are equal everywhere: taken as gray, as the import does',
  toGray: 'converted to grayscale (Rec. 601 luma: 0.299 R + 0.587 G + 0.114 B)',
  toColour: 'gray copied into 3 channels (the model takes colour)',
  scaled: 'scaled 0–255 → 0–1 (÷ 255), as in training',
} as const;
