/**
 * Reasons in the user's words: what a decoder or the file system says about a skipped file becomes a
 * plain reason in the lint report ("truncated JPEG", "not an image (a text file)"), mapped in one place
 * (reasons.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { importDataset } from '../index.js';
import { decoderReason, fileErrorReason, nonImageReason, structuralProblem } from '../reasons.js';
import { encodeImage, randomPixels, removeTempDirs, tempDir, writeImage } from './fixtures.js';

afterAll(removeTempDirs);

describe('skipped files say why in plain words', () => {
  // Several of these fail to decode at once: libvips's one error buffer then mixes their messages, so
  // these reasons must come from the files' bytes (structuralProblem), which this test would catch.
  it('truncated and corrupt PNG/JPEG/GIF/WebP, text, PDF, SVG, BMP, TIFF and noise each get their reason', async () => {
    const root = tempDir();
    const rng = new Rng(51);
    const rgb = (): Buffer => randomPixels(rng, 32, 32, 3);
    for (const cls of ['a', 'b']) for (let i = 0; i < 2; i++) await writeImage(join(root, cls, `${i}.png`), rgb(), 32, 32, 3);
    const png = await encodeImage(rgb(), 32, 32, 3, 'png');
    const jpeg = await encodeImage(rgb(), 32, 32, 3, 'jpeg');
    const gif = await sharp(rgb(), { raw: { width: 32, height: 32, channels: 3 } }).gif().toBuffer();
    const webp = await sharp(rgb(), { raw: { width: 32, height: 32, channels: 3 } }).webp().toBuffer();
    const badHeader = Buffer.from(png);
    badHeader[20] ^= 0xff; // inside IHDR: its CRC no longer matches
    const files: Record<string, [Buffer, string]> = {
      'cut.png': [png.subarray(0, png.length - 40), 'truncated PNG (the file ends before the image does)'],
      'header.png': [badHeader, 'corrupt PNG header (not a readable PNG file)'],
      'cut.jpg': [jpeg.subarray(0, jpeg.length - 200), 'truncated JPEG (the file ends before the image does)'],
      'stub.jpg': [jpeg.subarray(0, 20), 'truncated JPEG (the file ends before the image does)'],
      'cut.gif': [gif.subarray(0, gif.length / 2), 'truncated GIF (the file ends before the image does)'],
      'cut.webp': [webp.subarray(0, webp.length / 2), 'truncated WebP (the file ends before the image does)'],
      'notes.png': [Buffer.from('my notes\nline two, ünïcode\n'), 'not an image (a text file)'],
      'doc.jpg': [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj', 'latin1'), 'not an image (a PDF document)'],
      'draw.png': [Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), 'an SVG drawing; only PNG, JPEG, WebP and GIF are imported (render it to PNG)'],
      'pic.bmp': [Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]), 'a BMP image; only PNG, JPEG, WebP and GIF are imported (convert it)'],
      'scan.tif': [Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(60)]), 'a TIFF image; only PNG, JPEG, WebP and GIF are imported (convert it)'],
      'noise.png': [Buffer.from(randomPixels(rng, 10, 10, 1).map((b) => b | 0x80)), 'not an image (unrecognised content)'],
    };
    for (const [name, [bytes]] of Object.entries(files)) writeFileSync(join(root, 'a', name), bytes);
    const result = await importDataset(root, tempDir());
    expect(result.trainCount).toBe(4);
    expect(Object.fromEntries(result.lint.corrupt.map((c) => [c.file, c.reason]))).toEqual(
      Object.fromEntries(Object.entries(files).map(([name, [, reason]]) => [join('a', name), reason])),
    );
  });

  it("a PNG whose chunks are whole but whose compressed pixels are damaged: the decoder's message decides", async () => {
    const root = tempDir();
    const rng = new Rng(52);
    for (const cls of ['a', 'b']) for (let i = 0; i < 2; i++) await writeImage(join(root, cls, `${i}.png`), randomPixels(rng, 16, 16, 1), 16, 16, 1);
    const png = await encodeImage(randomPixels(rng, 16, 16, 1), 16, 16, 1, 'png');
    const idat = png.indexOf('IDAT');
    const length = png.readUInt32BE(idat - 4);
    for (let i = idat + 6; i < idat + 4 + length; i++) png[i] ^= 0x5a; // keep the zlib header, garble the rest
    png.writeUInt32BE(crc32(png.subarray(idat, idat + 4 + length)), idat + 4 + length);
    expect(structuralProblem('png', png)).toBeNull();
    writeFileSync(join(root, 'a', 'garbled.png'), png);
    const result = await importDataset(root, tempDir());
    expect(result.lint.corrupt).toEqual([{ file: join('a', 'garbled.png'), reason: 'corrupt PNG (its pixel data is damaged)' }]);
  });

  it('structure read from the bytes: PNG chunks and checksums, JPEG end marker (padding allowed), GIF trailer, RIFF length', async () => {
    const png = await encodeImage(Buffer.alloc(64, 9), 8, 8, 1, 'png');
    expect(structuralProblem('png', png)).toBeNull();
    expect(structuralProblem('png', png.subarray(0, 20))).toBe('corrupt PNG header (not a readable PNG file)');
    expect(structuralProblem('png', png.subarray(0, png.length - 12))).toBe('truncated PNG (the file ends before the image does)'); // no IEND
    const flipped = Buffer.from(png);
    flipped[png.indexOf('IDAT') + 6]! ^= 1;
    expect(structuralProblem('png', flipped)).toBe('corrupt PNG (the checksum of its IDAT chunk does not match)');
    const jpeg = await encodeImage(Buffer.alloc(64 * 3, 9), 8, 8, 3, 'jpeg');
    expect(structuralProblem('jpeg', Buffer.concat([jpeg, Buffer.alloc(10)]))).toBeNull();
    expect(structuralProblem('jpeg', jpeg.subarray(0, jpeg.length - 1))).toBe('truncated JPEG (the file ends before the image does)');
  });

  it('the decoder messages seen in the wild map to reasons, whatever follows them; unknown ones keep the decoder\'s first line', () => {
    expect(decoderReason('png', 'vipspng: libpng read error')).toBe('corrupt PNG (its pixel data is damaged)');
    expect(decoderReason('png', 'Warning treated as error due to failOn setting')).toBe('corrupt PNG (its pixel data is damaged)');
    expect(decoderReason('png', 'Input buffer has corrupt header:')).toBe('corrupt PNG header (not a readable PNG file)');
    expect(decoderReason('jpeg', 'VipsJpeg: premature end of JPEG file')).toBe('truncated JPEG (the file ends before the image does)');
    expect(decoderReason('jpeg', 'Input buffer has corrupt header: VipsJpeg: premature end of JPEG image\nVipsJpeg: JPEG datastream contains no image')).toBe('truncated JPEG (the file ends before the image does)');
    expect(decoderReason('png', 'Input buffer contains unsupported image format')).toBe('not an image sharp can decode (unrecognised content)');
    expect(decoderReason('gif', 'Input buffer has corrupt header: gifload_buffer: Unexpected end of GIF source data')).toBe('truncated GIF (the file ends before the image does)');
    expect(decoderReason('png', 'Input image exceeds pixel limit')).toBe('PNG with more pixels than the per-image limit');
    expect(decoderReason('png', 'vips2png: something new\nmore')).toBe('corrupt PNG data (the decoder said: vips2png: something new)');
    // another format's message (libvips's shared error buffer, another file decoding at once) is not believed
    expect(decoderReason('png', 'VipsJpeg: premature end of JPEG image')).toBe('corrupt PNG data');
  });

  it('file-system errors and contents read as words', () => {
    expect(fileErrorReason(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('cannot be read: permission denied');
    expect(fileErrorReason(Object.assign(new Error('x'), { code: 'EIO' }))).toBe('cannot be read: input/output error from the disk');
    expect(fileErrorReason(Object.assign(new Error('x'), { code: 'EWHATEVER' }))).toBe('cannot be read (EWHATEVER)');
    expect(nonImageReason(Buffer.from('PK\x03\x04', 'latin1'))).toBe('not an image (a zip archive; an archive inside a dataset folder is not unpacked)');
    expect(nonImageReason(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('not an image (gzip-compressed data)');
    // a multi-byte character cut by the 4 KiB sample is still text
    expect(nonImageReason(Buffer.from('é'.repeat(3000)).subarray(0, 4095))).toBe('not an image (a text file)');
  });
});
