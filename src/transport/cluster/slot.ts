/**
 * Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag (the
 * text between the first `{` and the next `}`, when not empty), modulo 16384.
 * Channels of sharded pub/sub are placed the same way.
 */

export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  }
  return crc;
}

const OPEN = 0x7b; // '{'
const CLOSE = 0x7d; // '}'

/** The slot of a key or sharded channel. */
export function slotOf(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  const open = bytes.indexOf(OPEN);
  if (open !== -1) {
    const close = bytes.indexOf(CLOSE, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) % SLOT_COUNT;
  }
  return crc16(bytes, 0, bytes.length) % SLOT_COUNT;
}

const CHANNEL_SLOT_CACHE_SIZE = 4096;
const channelSlots = new Map<string, number>();

/** {@link slotOf} for a channel, cached: the hot path publishes to the same few channels. */
export function slotOfChannel(channel: string): number {
  let slot = channelSlots.get(channel);
  if (slot === undefined) {
    slot = slotOf(channel);
    if (channelSlots.size >= CHANNEL_SLOT_CACHE_SIZE) channelSlots.clear();
    channelSlots.set(channel, slot);
  }
  return slot;
}
