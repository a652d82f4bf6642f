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

    /** Writes {@code data} and reads the same number of bytes back, on a plain socket. */
    static byte[] roundTrip(Socket s, byte[] data) throws IOException {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(data);
        out.flush();
        return in.readNBytes(data.length);
    }
}
