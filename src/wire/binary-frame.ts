/**
 * The binary frame: an envelope whose body holds Buffers or typed arrays
 * travels as raw bytes next to its JSON header, never as base64 or number
 * arrays inside JSON. Layout (all lengths little-endian):
 *
 *   0   4 bytes   magic 00 52 41 42 ("\0RAB"; a JSON text never starts with 00)
 *   4   uint32    H, byte length of the header
 *   8   H bytes   the envelope as UTF-8 JSON; its "attachments" field lists
 *                 each attachment's byte length, in order
 *       padding   zero bytes up to a multiple of 8
 *       each attachment's bytes, then zero bytes up to a multiple of 8
 *
 * The padding keeps every attachment 8-byte aligned relative to the frame
 * start, so a Float64Array can be a view of the received bytes, not a copy.
 */

export const FRAME_MAGIC = Buffer.from([0x00, 0x52, 0x41, 0x42]);
const ALIGN = 8;
const PADDING = Buffer.alloc(ALIGN);

const padded = (length: number): number => Math.ceil(length / ALIGN) * ALIGN;

export function isBinaryFrame(payload: Buffer): boolean {
  return payload.length >= 8 && payload[0] === 0x00;
}

/** The frame as chunks to write (attachments are not copied) and its total size. */
export function buildFrame(
  header: string,
  attachments: readonly Buffer[],
): { chunks: Buffer[]; size: number } {
  const headerBytes = Buffer.from(header);
  const prefix = Buffer.allocUnsafe(8);
  FRAME_MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  const chunks: Buffer[] = [prefix, headerBytes];
  let size = 8 + headerBytes.length;
  const pad = (): void => {
    const missing = padded(size) - size;
    if (missing > 0) {
      chunks.push(PADDING.subarray(0, missing));
      size += missing;
    }
  };
  pad();
  for (const attachment of attachments) {
    chunks.push(attachment);
    size += attachment.length;
    pad();
  }
  return { chunks, size };
}

/** Header text and attachment views of a frame, or the reason it is malformed. */
export function parseFrame(payload: Buffer): { header: string; attachmentStarts: number } | string {
  if (!payload.subarray(0, 4).equals(FRAME_MAGIC)) return 'bad magic bytes';
  const headerLength = payload.readUInt32LE(4);
  if (8 + headerLength > payload.length)
    return `header of ${headerLength} bytes overruns the frame`;
  return {
    header: payload.toString('utf8', 8, 8 + headerLength),
    attachmentStarts: padded(8 + headerLength),
  };
}

/** Cuts the attachments out of a frame given their declared lengths; a string on mismatch. */
export function sliceAttachments(
  payload: Buffer,
  start: number,
  lengths: unknown,
): Buffer[] | string {
  if (
    !Array.isArray(lengths) ||
    !lengths.every((length) => Number.isSafeInteger(length) && length >= 0)
  ) {
    return 'attachments must be a list of byte lengths';
  }
  const attachments: Buffer[] = [];
  let offset = start;
  for (const length of lengths as number[]) {
    if (offset + length > payload.length) return 'an attachment overruns the frame';
    attachments.push(payload.subarray(offset, offset + length));
    offset = padded(offset + length);
  }
  if (offset !== padded(payload.length)) return 'the frame is longer than its attachments';
  return attachments;
}
