// Bytes as lowercase hex: how hashes appear in logs, errors and the CLI.
// Browser-safe (no Buffer), and the one copy the packages share.

const DIGITS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** `Uint8Array.of(0xab, 0x01)` → `"ab01"`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += DIGITS[bytes[i]!];
  return s;
}
