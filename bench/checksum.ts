/** A cheap fingerprint of a large array: its length and a strided sample of its values. */
export function checksum(array: Float64Array): number {
  let sum = array.length;
  for (let i = 0; i < array.length; i += 4099) sum = (sum * 31 + (array[i] ?? 0)) % 1e12;
  return sum;
}
