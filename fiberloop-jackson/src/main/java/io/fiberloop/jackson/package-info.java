/**
 * JSON binding for fiberloop's HTTP server on Jackson ({@link io.fiberloop.jackson.JacksonCodec}).
 * Put {@code io.fiberloop:fiberloop-jackson} on the class path and {@code req.body(User.class)},
 * {@code req.bodyArray(Item.class)}, {@code HttpResponse.json(value)} and
 * {@code HttpResponse.jsonArray(iterator)} work without more configuration.
 */
package io.fiberloop.jackson;
