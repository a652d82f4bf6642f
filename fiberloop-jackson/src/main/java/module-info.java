/**
 * JSON binding for fiberloop's HTTP server on Jackson: a {@link io.fiberloop.netty.http.JsonCodec}
 * that the server finds by itself once this module is on the class or module path.
 */
module io.fiberloop.jackson {
    requires transitive io.fiberloop.netty;
    requires transitive com.fasterxml.jackson.databind;

    exports io.fiberloop.jackson;

    provides io.fiberloop.netty.http.JsonCodec with io.fiberloop.jackson.JacksonCodec;
}
