// Package loopback gives processes loopback ports without the race of "listen on port 0,
// close, hand the address to someone who binds it later": between the close and the bind,
// any other process may take the port. There is one rule, in three forms:
//
//   - Whoever binds, binds 127.0.0.1:0 and the address is read back from the bound socket.
//   - When a child process we wrote serves on the port (a shop service started by the dev
//     runner or the load generator), the parent binds it and hands the listening socket
//     over (Listeners, PassTo); the child's listen code takes it (Listen). The address is
//     known before the child starts and stays valid across restarts of the child.
//   - When the child's listener belongs to code that binds by address itself (FerretDB,
//     controller-runtime's metrics server, the original little-ecom backend), the child
//     binds port 0 and the parent reads the bound address from the kernel (ListeningAddrs).
//
// A closed listener's address is fine for one thing only: a test's "address nothing
// listens on", which nobody binds later.
package loopback
