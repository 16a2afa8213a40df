// Literal passwords in SQL text: masked in echoed statements and in everything
// the logger writes (a failing statement's source line in a traceback, say).

/** Hides literal passwords in SQL (CREATE/ALTER USER ... IDENTIFIED BY '...', PASSWORD('...')). */
export function redactSecrets(sql: string): string {
  return sql
    .replace(/(IDENTIFIED\s+(?:WITH\s+\S+\s+)?BY\s+)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")/gi, "$1'***'")
    .replace(/(PASSWORD\s*\(\s*)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")/gi, "$1'***'");
}
