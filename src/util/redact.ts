/** `scheme://user:secret@host` -> `scheme://user:***@host`: connection URLs end up in logs and reports. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
