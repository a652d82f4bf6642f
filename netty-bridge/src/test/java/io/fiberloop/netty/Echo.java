package io.fiberloop.netty;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

/** Shared pieces of the tests (public for the {@code http} package's). */
public final class Echo {
    private Echo() {
    }

    /** The fiber-per-connection echo handler. */
    static final TcpServer.Handler HANDLER = conn -> {
        ByteBuf b;
        while ((b = conn.read()) != null) {
            conn.write(b);
            conn.drain();
        }
    };

    /** @return the transports available on this machine, for {@code @MethodSource} */
    public static Stream<NettyTransport> transports() {
        return Arrays.stream(NettyTransport.values()).filter(NettyTransport::isAvailable);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /**
     * Opens {@code connections} plain sockets to {@code port} at once, each sending {@code roundTrips}
     * random 1 KiB messages and checking each echo; returns the round trips made.
     */
    static int concurrentEchoes(int port, int connections, int roundTrips) throws Exception {
        try (java.util.concurrent.ExecutorService clients = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            java.util.List<java.util.concurrent.Future<Integer>> results = new java.util.ArrayList<>();
            for (int i = 0; i < connections; i++) {
                long seed = i;
                results.add(clients.submit(() -> {
                    try (Socket s = new Socket("127.0.0.1", port)) {
                        for (int r = 0; r < roundTrips; r++) {
                            byte[] msg = random(1024, seed * 1000 + r);
                            if (!Arrays.equals(msg, roundTrip(s, msg))) {
                                throw new AssertionError("connection " + seed + ", round trip " + r + ": the echo differs");
                            }
                        }
                    }
                    return roundTrips;
                }));
            }
            int total = 0;
            for (java.util.concurrent.Future<Integer> f : results) {
                total += f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            return total;
        }
    }

    /** Writes {@code data} and reads the same number of bytes back, on a plain socket. */
    static byte[] roundTrip(Socket s, byte[] data) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(data);
        out.flush();
        return in.readNBytes(data.length);
    }
}
