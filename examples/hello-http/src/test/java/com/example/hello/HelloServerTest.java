package com.example.hello;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fiberloop.netty.http.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class HelloServerTest {

    @Test
    void answersItsRouteAndA404ForAnythingElse() throws Exception {
        HttpServer server = HelloServer.start(0);
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
            HttpResponse<String> hello = get(client, server, "/hello/fiberloop");
            assertEquals(200, hello.statusCode());
            assertEquals("Hello, fiberloop!", hello.body());
            assertEquals(404, get(client, server, "/goodbye").statusCode());
        } finally {
            server.close();
        }
    }

    private static HttpResponse<String> get(HttpClient client, HttpServer server, String path) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10)).build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }
}
