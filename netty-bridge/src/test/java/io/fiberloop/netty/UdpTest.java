package io.fiberloop.netty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fiberloop.fiber.Fibers;
import io.fiberloop.fiber.Task;
import io.fiberloop.loop.EventLoop;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** UDP endpoints used from fibers. */
@ExtendWith(NoLeaks.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpTest {

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void pingPongBetweenTwoFiberEndpoints(NettyTransport transport) throws Exception {
        int rounds = 200;
        try (EventLoop loop = NettyLoops.builder(transport).build()) {
            int last = loop.run(() -> {
                try (UdpEndpoint a = UdpEndpoint.bind("127.0.0.1", 0);
                     UdpEndpoint b = UdpEndpoint.bind("127.0.0.1", 0)) {
                    Task<Void> ponger = Fibers.spawn(() -> {
                        for (int i = 0; i < rounds; i++) {
                            UdpEndpoint.Datagram d = b.receive();
                            int n = Integer.parseInt(new String(d.data(), StandardCharsets.US_ASCII));
                            b.send(String.valueOf(n + 1).getBytes(StandardCharsets.US_ASCII), d.sender());
                        }
                        return null;
                    });
                    int n = 0;
                    for (int i = 0; i < rounds; i++) {
                        a.send(String.valueOf(n).getBytes(StandardCharsets.US_ASCII), b.localAddress());
                        UdpEndpoint.Datagram d = a.receive();
                        assertEquals(b.localAddress(), d.sender());
                        n = Integer.parseInt(new String(d.data(), StandardCharsets.US_ASCII));
                    }
                    ponger.join();
                    return n;
                }
            });
            assertEquals(rounds, last);
        }
    }

    @Test
    void aFiberEndpointAnswersAPlainDatagramSocket() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop();
             DatagramSocket plain = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            UdpEndpoint server = UdpEndpoint.bind(loop, "127.0.0.1", 0);
            Task<Void> echo = Fibers.spawn(loop, () -> {
                try (server) {
                    UdpEndpoint.Datagram d;
                    while ((d = server.receive()) != null) {
                        if (d.data().length == 0) {
                            return null;
                        }
                        server.send(d.data(), d.sender());
                    }
                }
                return null;
            });
            byte[] payload = Echo.random(1200, 5);
            plain.send(new DatagramPacket(payload, payload.length, server.localAddress()));
            DatagramPacket reply = new DatagramPacket(new byte[2048], 2048);
            plain.setSoTimeout(20_000);
            plain.receive(reply);
            assertArrayEquals(payload, java.util.Arrays.copyOf(reply.getData(), reply.getLength()));
            assertEquals(server.localAddress(), new InetSocketAddress(reply.getAddress(), reply.getPort()));
            plain.send(new DatagramPacket(new byte[0], 0, server.localAddress()));
            echo.get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void receiveTimeout() throws Exception {
        try (EventLoop loop = NettyLoops.newLoop()) {
            loop.run(() -> {
                try (UdpEndpoint a = UdpEndpoint.bind("127.0.0.1", 0)) {
                    a.receiveTimeout(Duration.ofMillis(20));
                    assertThrows(SocketTimeoutException.class, a::receive);
                }
                return null;
            });
        }
    }

    @ParameterizedTest
    @MethodSource("io.fiberloop.netty.Echo#transports")
    void largeDatagramsArriveWhole(NettyTransport transport) throws Exception {
        try (EventLoop loop = NettyLoops.builder(transport).build();
             DatagramSocket plain = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            UdpEndpoint server = UdpEndpoint.bind(loop, "127.0.0.1", 0);
            Task<Void> echo = Fibers.spawn(loop, () -> {
                try (server) {
                    UdpEndpoint.Datagram d;
                    while ((d = server.receive()) != null && d.data().length > 0) {
                        server.send(d.data(), d.sender());
                    }
                }
                return null;
            });
            plain.setSoTimeout(20_000);
            // Netty's datagram channels read into 2,048-byte buffers unless told otherwise
            for (int size : new int[] {2049, 9000, 65507}) {
                byte[] payload = Echo.random(size, size);
                plain.send(new DatagramPacket(payload, payload.length, server.localAddress()));
                DatagramPacket reply = new DatagramPacket(new byte[65536], 65536);
                plain.receive(reply);
                assertEquals(size, reply.getLength(), "a datagram of " + size + " bytes came back cut");
                assertArrayEquals(payload, java.util.Arrays.copyOf(reply.getData(), reply.getLength()));
            }
            plain.send(new DatagramPacket(new byte[0], 0, server.localAddress()));
            echo.get(20, TimeUnit.SECONDS);
        }
    }
}
