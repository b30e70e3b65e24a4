/**
 * Whether a socket listens on TCP `port`, read from the text of Linux's `/proc/net/tcp` and
 * `/proc/net/tcp6` (any number of them, concatenated) of one network namespace. Each row's
 * second column is the local `ADDRESS:PORT` (hexadecimal) and its fourth the state, `0A`
 * being LISTEN (include/net/tcp_states.h). A listening socket is what a connect needs; the
 * check opens no connection, so a server that serves one connection only keeps it.
 */
export function listeningOn(procNetTcp: string, port: number): boolean {
  const wanted = port.toString(16).toUpperCase().padStart(4, '0');
  return procNetTcp.split('\n').some((line) => {
    const columns = line.trim().split(/\s+/);
    return columns[3] === '0A' && columns[1]?.split(':')[1]?.toUpperCase() === wanted;
  });
}
