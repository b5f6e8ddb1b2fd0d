/** Escapes Redis glob metacharacters (`* ? [ ] \`) so a SCAN MATCH pattern matches `text` literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
