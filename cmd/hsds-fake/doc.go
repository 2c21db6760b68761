// Command hsds-fake runs one fake HSDS pod (service node and data node) on loopback sockets for
// the end-to-end tests and the demo. See docs/fake-hsds.md.
package main
