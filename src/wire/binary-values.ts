/**
 * Buffers, typed arrays and ArrayBuffers as raw bytes: which values count, a
 * zero-copy byte view of each for sending, and the same type rebuilt from
 * received bytes. Only the constructors listed here are ever instantiated.
 */

const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

type TypedArrayName = keyof typeof TYPED_ARRAYS;
export type BinaryTypeName = TypedArrayName | 'Buffer' | 'ArrayBuffer';

function isTypedArrayName(name: string): name is TypedArrayName {
  return Object.prototype.hasOwnProperty.call(TYPED_ARRAYS, name);
}

/** The binary type of `value`, or `undefined` when it is not one travelling as bytes. */
export function binaryTypeOf(value: unknown): BinaryTypeName | undefined {
  if (value instanceof ArrayBuffer) return 'ArrayBuffer';
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return undefined;
  if (Buffer.isBuffer(value)) return 'Buffer';
  const name = value.constructor.name;
  return isTypedArrayName(name) && value instanceof TYPED_ARRAYS[name] ? name : undefined;
}

/** The bytes of a binary value, without copying them. */
export function bytesOf(value: ArrayBufferView | ArrayBuffer): Buffer {
  return value instanceof ArrayBuffer
    ? Buffer.from(value)
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * Rebuilds a value of `type` from `bytes`: a view on them when `shareMemory`
 * and the alignment allow, else a copy. Throws on an unknown type or a length
 * that is not a whole number of elements.
 */
export function reviveBinary(
  type: string,
  bytes: Buffer,
  shareMemory: boolean,
): ArrayBufferView | ArrayBuffer {
  if (type === 'ArrayBuffer') {
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  if (type === 'Buffer') return shareMemory ? bytes : Buffer.from(bytes);
  if (!isTypedArrayName(type)) throw new Error(`unknown binary type "${type}"`);
  const Constructor = TYPED_ARRAYS[type];
  const size = Constructor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${bytes.byteLength} bytes are not a whole number of ${type} elements`);
  }
  const length = bytes.byteLength / size;
  if (shareMemory && bytes.byteOffset % size === 0) {
    return new Constructor(bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  }
  const copy = new Constructor(length);
  new Uint8Array(copy.buffer).set(bytes);
  return copy;
}
