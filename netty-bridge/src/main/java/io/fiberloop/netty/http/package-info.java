/**
 * An embedded HTTP/1.1 and HTTP/2 server and client on fibers, built on Netty's HTTP codecs: each
 * request's handler runs as a task of the loop that serves its connection (one loop, or every loop
 * of a group), in plain blocking style; HTTPS on both sides; WebSockets, server-sent events, static
 * files, compression and CORS.
 * {@snippet :
 * HttpServer server = HttpServer.builder()
 *         .port(8080)
 *         .get("/hello", req -> HttpResponse.text("Hello, World!"))
 *         .get("/users/{id}", req -> HttpResponse.json("{\"id\":\"" + req.pathParam("id") + "\"}"))
 *         .start();
 * }
 * See {@code docs/http.md}.
 */
package io.fiberloop.netty.http;
