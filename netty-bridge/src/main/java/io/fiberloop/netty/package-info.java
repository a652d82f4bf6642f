/**
 * Netty 4.2 I/O on the loop's thread (work in progress; see issues 5 and 6): await on Netty
 * futures, fiber-style TCP/TLS/UDP connections and servers, and the embedded HTTP/1.1 server.
 * Nothing in this package is implemented yet.
 */
package io.fiberloop.netty;
