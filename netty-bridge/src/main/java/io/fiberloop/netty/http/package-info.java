/**
 * An embedded HTTP/1.1 server and client on fibers, built on Netty's HTTP codec: each request's
 * handler runs in its own fiber of the loop that serves its connection (one loop, or every loop of
 * a group), in plain blocking style; HTTPS on both sides.
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
