// Larger UDP socket buffers for every socket a DHT node opens.
//
// hyperswarm carries all of a machine's connections over one UDP socket. With
// Linux's default receive buffer (net.core.rmem_default, 208 KiB), replies from
// several peers at once (a mount's eight 1 MiB read-aheads from five machines)
// overflow it: the kernel drops datagrams ("receive buffer errors" in
// `netstat -su`) and UDX recovers only after its 1 s retransmission timeout,
// so a whole batch of reads stalls for a second. Measured on a 5-node loopback
// ring (docs/transport.md, "Socket buffers").
//
// The kernel caps the size at net.core.rmem_max / wmem_max (4 MiB on this
// machine, often 208 KiB on stock distributions: raise them there for the
// same effect); asking for more than the cap is harmless.

import type HyperDHT from 'hyperdht'

export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

/** Call right after `new HyperDHT(...)`, before ready(): the sockets are created and bound later. */
export function enlargeSocketBuffers(dht: HyperDHT, bytes = SOCKET_BUFFER_BYTES): void {
  const udx = dht.udx
  const createSocket = udx.createSocket.bind(udx)
  udx.createSocket = (...args: unknown[]) => {
    const socket = createSocket(...args)
    // Buffer sizes can only be set once the socket is bound.
    socket.once('listening', () => {
      try {
        socket.setRecvBufferSize(bytes)
        socket.setSendBufferSize(bytes)
      } catch {
        // A socket closed before it was bound: nothing to tune.
      }
    })
    return socket
  }
}
