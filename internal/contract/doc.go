// Package contract holds the names that the operator's builders and the shop services must
// agree on: environment variables, ports, paths, database names and the messaging topology.
// Both sides import these constants, so a rename cannot break one side silently.
package contract
